/** The part of a prom-client Registry the tests read (testkit does not depend on prom-client). */
export interface MetricSource {
  getSingleMetric(name: string):
    | {
        get(): Promise<{
          values: { value: number; labels: Record<string, unknown>; metricName?: string }[];
        }>;
      }
    | undefined;
}

/**
 * The value of a counter or gauge, summed over the series whose labels include `labels` (0 when none
 * has been recorded); of a histogram, its number of observations.
 */
export async function metricValue(
  registry: MetricSource,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  // Histograms name each series (_bucket/_sum/_count): count their observations.
  const series = values.some((v) => v.metricName !== undefined) ? `${name}_count` : undefined;
  return values
    .filter((v) => series === undefined || v.metricName === series)
    .filter((v) => Object.entries(labels).every(([k, value]) => String(v.labels[k]) === value))
    .reduce((sum, v) => sum + v.value, 0);
}
