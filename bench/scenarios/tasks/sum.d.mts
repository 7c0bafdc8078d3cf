export default function sum(n: number): number;
