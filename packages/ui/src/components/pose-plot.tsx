// The pose coverage of an identity: one dot per face on yaw × pitch (±60°), the frontal square shaded.
import type { IdentityFace } from '../api-types';

const RANGE = 60;
const FRONTAL = 15;

export function PosePlot({ faces, size = 160 }: { faces: readonly IdentityFace[]; size?: number }) {
  const at = (v: number) => (Math.max(-RANGE, Math.min(RANGE, v)) + RANGE) / (2 * RANGE) * size;
  const lines = [];
  for (let d = -RANGE; d <= RANGE; d += FRONTAL) {
    const w = d === 0 ? 1.5 : 0.5;
    lines.push(<line key={`x${d}`} x1={at(d)} y1={0} x2={at(d)} y2={size} stroke="#999" stroke-width={w} />);
    lines.push(<line key={`y${d}`} x1={0} y1={size - at(d)} x2={size} y2={size - at(d)} stroke="#999" stroke-width={w} />);
  }
  const measured = faces.filter((f) => f.pose);
  return (
    <svg class="pose-plot" data-testid="pose-plot" width={size} height={size} viewBox={`0 0 ${size} ${size}`} role="img"
      aria-label={`pose coverage: ${measured.length} faces on yaw × pitch`}>
      <rect width={size} height={size} fill="#f6f6f6" />
      <rect x={at(-FRONTAL)} y={size - at(FRONTAL)} width={at(FRONTAL) - at(-FRONTAL)} height={at(FRONTAL) - at(-FRONTAL)} fill="#e4e4e4" />
      {lines}
      {measured.map((f) => (
        <circle key={f.id} data-testid="pose-dot" cx={at(f.pose!.yaw)} cy={size - at(f.pose!.pitch)} r={4}
          fill={f.exported ? '#d97706' : 'none'} stroke="#d97706" stroke-width={1.5}>
          <title>{`${f.sources[0] ?? f.file}: yaw ${f.pose!.yaw.toFixed(1)}°, pitch ${f.pose!.pitch.toFixed(1)}°${f.exported ? '' : ' (left out)'}`}</title>
        </circle>
      ))}
      <text x={size - 4} y={size / 2 - 4} font-size="10" text-anchor="end" fill="#555">yaw →</text>
      <text x={size / 2 + 4} y={12} font-size="10" fill="#555">pitch ↑</text>
    </svg>
  );
}
