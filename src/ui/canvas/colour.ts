/** Background for a committed token: red (unsure) through yellow to green (sure). */
export function confidenceColour(conf: number): string {
  const c = Math.max(0, Math.min(1, conf));
  return `hsl(${Math.round(c * 120)} 75% 85%)`;
}
