/** Reads one sample of a Prometheus text exposition; 0 when the series is absent. */
export const sampleOf = (text: string, name: string, labels: Record<string, string> = {}) => {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const braces = /\{([^}]*)\}/.exec(line)?.[1] ?? "";
    const present = braces.split(",");
    if (wanted.every((pair) => present.includes(pair))) return Number(line.split(" ").at(-1));
  }
  return 0;
};

export const scrape = async (url: string) => {
  const response = await fetch(`${url}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
};
