// Types for bundle-node.mjs, which the tests' global setup imports.
export const root: string;
/** Bundles `entry` (relative to the repository) into `outfile` (relative to it too). */
export function bundleNode(entry: string, outfile: string): Promise<void>;
