/**
 * What the CLI's SVG charts share: escaping, element building, axis ticks and number labels.
 * Charts are plain strings of standalone SVG (no scripts, no external fonts or styles), so a file
 * opens the same in a browser, an image viewer or a README.
 */

/** Escapes text for use in an SVG element or attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export type Attributes = Record<string, string | number | undefined>;

/** One element. Attributes whose value is undefined are left out; `children` is markup, not text. */
export function el(name: string, attributes: Attributes, children?: string): string {
  let open = `<${name}`;
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    open += ` ${key}="${escapeXml(typeof value === 'number' ? round(value) : value)}"`;
  }
  return children === undefined ? `${open}/>` : `${open}>${children}</${name}>`;
}

/** A text element; `content` is escaped. */
export function text(content: string, attributes: Attributes): string {
  return el('text', attributes, escapeXml(content));
}

/** Coordinates with two decimals at most: smaller files, no visible difference. */
function round(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** A whole document with its title (shown by viewers and read by screen readers) and shared styles. */
export function svgDocument(width: number, height: number, title: string, body: string): string {
  const style =
    'text{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;fill:#1f2328}' +
    '.title{font-size:16px;font-weight:600}.subtitle{font-size:12px;fill:#57606a}' +
    '.tick{font-size:11px;fill:#57606a}.label{font-size:12px}.grid{stroke:#d0d7de;stroke-width:1}' +
    '.axis{stroke:#57606a;stroke-width:1}';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    el(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        width,
        height,
        viewBox: `0 0 ${width} ${height}`,
        role: 'img',
      },
      `${el('title', {}, escapeXml(title))}${el('style', {}, style)}${el('rect', { width, height, fill: '#ffffff' })}${body}`,
    ) +
    '\n'
  );
}

/**
 * Round axis ticks from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten, about
 * `count` of them. A max of 0 (or less) still gets an axis from 0 to 1.
 */
export function niceTicks(max: number, count = 5): number[] {
  const top = max > 0 && Number.isFinite(max) ? max : 1;
  const rough = top / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let i = 0; ticks.at(-1) === undefined || (ticks.at(-1) as number) < top; i++) ticks.push(i * step);
  // Repair floating-point drift (0.30000000000000004) so labels print cleanly.
  return ticks.map((t) => Number(t.toPrecision(12)));
}

/** A short label for a number, three significant digits below 100: 0.0412, 2.71, 12.3, 854, 3.4k, 12M. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  if (abs >= 100 || abs === 0) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

function trim(value: number): string {
  return String(Number(value.toFixed(Math.abs(value) >= 100 ? 0 : 1)));
}

/** Approximate width in pixels of `content` at `fontSize` in a proportional sans-serif font. */
export function textWidth(content: string, fontSize: number): number {
  return content.length * fontSize * 0.58;
}
