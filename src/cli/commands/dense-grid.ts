/** The grid `predict --dense` reports: one cell per position of the net's window. */
export interface DenseGrid {
  rows: number;
  cols: number;
  /** Pixels between neighbouring cells (of the scaled image). */
  stride: [number, number];
  /** The top class index of each cell, [rows][cols]. */
  top: number[][];
  /** Every class probability of each cell, [rows][cols][classes]. */
  probabilities: number[][][];
  /** [height, width] the image was scaled to, and its own size. */
  scaledTo?: [number, number];
  imageSize?: [number, number];
}

/**
 * A small text map of the top class per cell, e.g. for a digit written across three windows:
 *     7 7 1
 *     7 7 1
 * Class names are cut to 6 characters so that the columns line up.
 */
export function renderGrid(grid: DenseGrid, classNames: readonly string[] | undefined): string {
  const label = (i: number) => (classNames?.[i] ?? String(i)).slice(0, 6);
  const width = Math.max(...grid.top.flat().map((i) => label(i).length));
  const scaled = grid.scaledTo && grid.imageSize ? ` of the image scaled from ${grid.imageSize[1]}x${grid.imageSize[0]} to ${grid.scaledTo[1]}x${grid.scaledTo[0]}` : '';
  const lines = [`  top class per window, ${grid.cols}x${grid.rows} grid (one every ${grid.stride[1]}x${grid.stride[0]} pixels${scaled}):`];
  for (const row of grid.top) lines.push(`    ${row.map((i) => label(i).padStart(width)).join(' ')}`);
  lines.push('  average over the grid:');
  return `${lines.join('\n')}\n`;
}
