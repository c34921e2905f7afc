/** One built image, as the size report shows it. */
export interface BuiltImage {
  name: string;
  /** Its size as podman reports it (all layers, the base's included). */
  bytes: number;
  /** How long its build took; undefined for an image reused as it was. */
  seconds?: number;
}

/** Decimal megabytes, as podman and docker print image sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(0)} kB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(2)} GB`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  return `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
}

/**
 * The table `./dispatch images` ends with: each image's size, what it adds on top of the base
 * (the layers it does not share with it), and its build time; the service images, then the server
 * images (all of them on the same base). Pure.
 */
export function sizeReport(
  base: BuiltImage,
  services: BuiltImage[],
  totalSeconds?: number,
  servers: BuiltImage[] = [],
): string {
  const rows: string[][] = [['image', 'size', 'above the base', 'build time']];
  const time = (image: BuiltImage) => (image.seconds === undefined ? 'reused' : formatSeconds(image.seconds));
  rows.push([base.name, formatBytes(base.bytes), '', time(base)]);
  for (const image of [...services, ...servers]) {
    rows.push([
      image.name,
      formatBytes(image.bytes),
      formatBytes(Math.max(0, image.bytes - base.bytes)),
      time(image),
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
  if (services.length > 0) {
    const added = services.reduce((sum, image) => sum + Math.max(0, image.bytes - base.bytes), 0);
    lines.push(
      `${services.length} service image${services.length === 1 ? '' : 's'}: ${formatBytes(base.bytes + added)} on disk in all (the base's layers are shared)`,
    );
  }
  if (servers.length > 0) {
    const built = servers.filter((image) => image.seconds !== undefined).length;
    lines.push(
      `${servers.length} server image${servers.length === 1 ? '' : 's'} (${built} built, ${servers.length - built} reused)`,
    );
  }
  if (totalSeconds !== undefined) lines.push(`total time: ${formatSeconds(totalSeconds)}`);
  return `${lines.join('\n')}\n`;
}
