export default function sumRow(row: { id: number; n: number; tag: string }): {
  id: number;
  sum: number;
  tag: string;
};
