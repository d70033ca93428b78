/** Offers `blob` to the visitor as a download named `name` (the trace JSON, a timeline PNG). */
export function saveFile(blob: Blob, name: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  URL.revokeObjectURL(a.href);
}
