// Connected components of the candidate graph: faces in different components can never share a cluster.
import type { EdgeList } from './threshold-graph';

export interface Components {
  /** Component of each row, numbered 0.. in order of each component's smallest row. */
  label: Int32Array;
  count: number;
}

export function connectedComponents(n: number, edges: EdgeList): Components {
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (let k = 0; k < edges.length; k++) {
    const ra = find(edges.a[k]!), rb = find(edges.b[k]!);
    // The smaller root wins, so a component's root is its smallest row.
    if (ra < rb) parent[rb] = ra;
    else if (rb < ra) parent[ra] = rb;
  }
  const label = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const r = find(i);
    label[i] = r === i ? count++ : label[r]!;
  }
  return { label, count };
}
