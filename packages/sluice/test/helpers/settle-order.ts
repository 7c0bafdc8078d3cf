/** Records the order in which the given promises settle, by label (`label:rejected` for rejections). */
export function settleOrder(entries: Record<string, Promise<unknown>>): string[] {
  const order: string[] = [];
  for (const [label, promise] of Object.entries(entries)) {
    promise.then(
      () => order.push(label),
      () => order.push(`${label}:rejected`),
    );
  }
  return order;
}
