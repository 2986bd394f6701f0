// One identity: every face (lazy thumbnails), selection, reject / split / move, merge from suggestions, label, undo.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, call, download, get, getAll } from '../api';
import type { Decision, IdentityDetail, IdentityFace, IdentitySummary, Suggestions } from '../api-types';
import { identityTitle } from '../components/identity-card';
import { Link } from '../components/link';
import { Notice, type NoticeValue } from '../components/notice';
import { PosePlot } from '../components/pose-plot';
import { Thumb } from '../components/thumb';
import { navigate } from '../route';
import { foldDuplicates, poseLabel, sortFaces, type FaceSort } from '../face-order';
import { clickFace, emptySelection, keepShown, type Selection } from '../selection';

const FACE_SIZE = 112;
const idPath = (id: string) => `/identities/${encodeURIComponent(id)}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface Loaded {
  identity: IdentityDetail;
  suggestions: Suggestions | null;
  history: Decision[];
}

async function load(id: string, signal?: AbortSignal): Promise<Loaded> {
  const identity = await get<IdentityDetail>(idPath(id), signal);
  const [suggestions, history] = await Promise.all([
    identity.state === 'active' ? get<Suggestions>(`${idPath(id)}/suggestions`, signal).catch(() => null) : Promise.resolve(null),
    get<{ items: Decision[] }>(`${idPath(id)}/history`, signal)
      .then((h) => h.items)
      .catch(() => []),
  ]);
  return { identity, suggestions, history };
}

function FaceTile({
  face,
  selected,
  nearer,
  onClick,
}: {
  face: IdentityFace;
  selected: boolean;
  /** The other identity this face is nearer to, if any. */
  nearer: { name: string; distance: number } | undefined;
  onClick: (shift: boolean) => void;
}) {
  const source = face.sources[0] ?? face.sha256.slice(0, 8);
  const hint = nearer ? `\nnearer ${nearer.name} (${nearer.distance.toFixed(2)}) than this identity's centroid` : '';
  return (
    <button
      type="button"
      class={`face${selected ? ' selected' : ''}${nearer ? ' uncertain' : ''}${face.exported ? '' : ' left-out'}`}
      aria-pressed={selected}
      data-testid="face"
      data-face-id={face.id}
      data-exported={String(face.exported)}
      title={`${face.sources.join('\n')}\n${face.origin} · ${face.faceShort} px · blur ${Math.round(face.blur)} · det ${face.detScore.toFixed(2)} · ${poseLabel(face)}${face.left ? `\nnot exported: ${face.left.reason}` : ''}${hint}`}
      onClick={(e) => onClick(e.shiftKey)}
    >
      <Thumb faceId={face.id} size={FACE_SIZE} alt={source} />
      <span class="face-meta">
        {face.distance === null ? '' : face.distance.toFixed(2)} · {face.origin}
      </span>
      <span class="face-meta" data-testid="face-pose">{poseLabel(face)}</span>
      {face.left ? <span class="face-meta left-reason" data-testid="left-reason">{face.left.reason}</span> : null}
    </button>
  );
}

export function IdentityPage({ id }: { id: string }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selection, setSelection] = useState<Selection>(emptySelection);
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const [busy, setBusy] = useState(false);
  const [labelDraft, setLabelDraft] = useState('');
  const [sort, setSort] = useState<FaceSort>('listed');
  const [targets, setTargets] = useState<IdentitySummary[]>([]);
  const [moveTo, setMoveTo] = useState('');
  const [archiveFormat, setArchiveFormat] = useState('facesets');

  // The version the page shows now: an undo offered by an older message still refers to what is on screen.
  const shownVersion = useRef<number | null>(null);

  const refresh = async (signal?: AbortSignal) => {
    const next = await load(id, signal);
    shownVersion.current = next.identity.version;
    setData(next);
    setLabelDraft(next.identity.label ?? '');
    setError(null);
    return next;
  };

  useEffect(() => {
    const abort = new AbortController();
    setData(null);
    setSelection(emptySelection);
    setNotice(null);
    refresh(abort.signal).catch((err: Error) => {
      if (!abort.signal.aborted) setError(err.message);
    });
    return () => abort.abort();
  }, [id]);

  const root = data?.identity.outputRoot ?? null;
  useEffect(() => {
    if (!root) return;
    const abort = new AbortController();
    getAll<IdentitySummary>('/identities', { outputRoot: root, state: 'active', limit: 200 }, abort.signal)
      .then((items) => setTargets(items.filter((i) => i.id !== id)))
      .catch(() => setTargets([]));
    return () => abort.abort();
  }, [root, id, data?.identity.version]);

  // Faces nearer another identity's centroid than their own are outlined; the API ranks its least certain first.
  const nearer = useMemo(
    () => new Map((data?.suggestions?.uncertain ?? []).flatMap((u) => (u.reason === 'nearer-other' && u.nearestOther ? [[u.faceId, u.nearestOther] as const] : []))),
    [data],
  );
  const groups = useMemo(() => {
    let list = [...(data?.identity.faces ?? [])];
    if (sort === 'uncertain') {
      const rank = new Map((data?.suggestions?.uncertain ?? []).map((u, i) => [u.faceId, i]));
      const at = (id: string) => rank.get(id) ?? Number.MAX_SAFE_INTEGER;
      list.sort((a, b) => at(a.id) - at(b.id) || (b.distance ?? 0) - (a.distance ?? 0));
    } else list = sortFaces(list, sort);
    // Near-duplicates are folded under the face exported for their shot.
    return foldDuplicates(list);
  }, [data, sort]);
  const order = useMemo(() => groups.flatMap((g) => [g.face.id, ...g.duplicates.map((d) => d.id)]), [groups]);

  if (error && !data) return <p class="error">Could not load identity {id}: {error}</p>;
  if (!data) return <p>Loading…</p>;
  const { identity, suggestions, history } = data;
  const selected = [...selection.selected];
  const active = identity.state === 'active';

  /** Runs one change; reloads after it; a 409 reloads and says so, other errors are shown as they came. */
  async function change(run: () => Promise<string | NoticeValue>, undoable = true): Promise<void> {
    setBusy(true);
    try {
      const said = await run();
      const next = await refresh();
      setSelection((s) => keepShown(s, next.identity.faces.map((f) => f.id)));
      const value: NoticeValue = typeof said === 'string' ? { kind: 'ok', text: said } : said;
      if (undoable && !value.action) value.action = { label: 'Undo', run: () => void undo() };
      setNotice(value);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        await refresh().catch(() => undefined);
        setNotice({
          kind: 'conflict',
          text: `Not done: ${err.message}. The page now shows the current state of ${identity.name}; check it and try again.`,
        });
      } else {
        setNotice({ kind: 'error', text: err instanceof Error ? err.message : String(err) });
      }
    } finally {
      setBusy(false);
    }
  }

  const version = identity.version;
  const undo = () =>
    change(async () => {
      await call('POST', `${idPath(id)}/undo`, { ifMatch: shownVersion.current ?? version });
      return 'Undid the last decision.';
    }, false);
  const reject = () =>
    change(async () => {
      await call('POST', `${idPath(id)}/reject`, { body: { faceIds: selected }, ifMatch: version });
      return `Rejected ${plural(selected.length, 'face')}: they will not come back into ${identity.name}.`;
    });
  const split = () =>
    change(async () => {
      const made = await call<IdentitySummary>('POST', `${idPath(id)}/split`, { body: { faceIds: selected }, ifMatch: version });
      return {
        kind: 'ok',
        text: `Split ${plural(selected.length, 'face')} into ${made.name}.`,
        action: { label: `Open ${made.name}`, run: () => navigate({ page: 'identity', id: made.id }) },
      };
    });
  const move = () => {
    const target = targets.find((t) => t.id === moveTo);
    if (!target) return;
    return change(async () => {
      await call('POST', `${idPath(target.id)}/assign`, { body: { faceIds: selected }, ifMatch: target.version });
      return {
        kind: 'ok',
        text: `Moved ${plural(selected.length, 'face')} to ${identityTitle(target)}.`,
        action: { label: `Open ${target.name}`, run: () => navigate({ page: 'identity', id: target.id }) },
      };
    }, false);
  };
  // A face curation leaves out (near-duplicate, maxFaces) comes back by assigning it to its own identity: pinned, exported.
  const leftOutSelected = selected.length > 0 && selected.every((fid) => identity.faces.find((f) => f.id === fid)?.exported === false);
  const bringBack = () =>
    change(async () => {
      await call('POST', `${idPath(id)}/assign`, { body: { faceIds: selected }, ifMatch: version });
      return `Exported ${plural(selected.length, 'left-out face')}: pinned to ${identity.name}, they stay in the set.`;
    });
  const merge = (fromId: string, fromName: string) =>
    change(async () => {
      await call('POST', `${idPath(id)}/merge`, { body: { from: [fromId] }, ifMatch: version });
      return `Merged ${fromName} into ${identity.name}.`;
    });
  const saveLabel = () =>
    change(async () => {
      const label = labelDraft.trim() || null;
      await call('PATCH', idPath(id), { body: { label }, ifMatch: version });
      return label ? `Labelled ${identity.name} “${label}”.` : `Cleared the label of ${identity.name}.`;
    });
  const remove = async () => {
    if (!confirm(`Delete ${identityTitle(identity)}? Its folder goes; undo brings it back.`)) return;
    await change(async () => {
      await call('DELETE', idPath(id), { ifMatch: version });
      return `Deleted ${identity.name}.`;
    });
  };

  return (
    <section class="identity-page">
      <p class="crumbs">
        {root ? <Link to={{ page: 'root', outputRoot: root }}>← all identities of {root}</Link> : null}
      </p>
      <h1 data-testid="identity-title">
        {identityTitle(identity)} <span class="muted">{plural(identity.count, 'face')}</span>
        {identity.thin ? <span class="badge">thin</span> : null}
        {!active ? <span class="badge">{identity.state}</span> : null}
      </h1>
      <p class="muted path">
        {identity.path} · version {String(version)}
        {identity.centroidDistanceP90 != null ? ` · p90 distance ${identity.centroidDistanceP90.toFixed(2)}` : ''}
      </p>
      {identity.state === 'merged' && identity.mergedInto ? (
        <p>
          Merged: its faces are in <Link to={{ page: 'identity', id: identity.mergedInto }}>the identity it went into</Link>. Undo
          brings it back.
        </p>
      ) : null}
      <Notice notice={notice} onClose={() => setNotice(null)} />

      <div class="toolbar">
        <form
          class="label-form"
          onSubmit={(e) => {
            e.preventDefault();
            void saveLabel();
          }}
        >
          <input
            name="label"
            aria-label="label"
            placeholder="a name for this person"
            value={labelDraft}
            disabled={!active || busy}
            onInput={(e) => setLabelDraft(e.currentTarget.value)}
          />
          <button type="submit" disabled={!active || busy || labelDraft.trim() === (identity.label ?? '')}>
            Save label
          </button>
        </form>
        <button type="button" onClick={() => void undo()} disabled={busy || !history.some((d) => d.kind !== 'undo' && !d.undoneBy)}>
          Undo last decision
        </button>
        <button type="button" class="danger" onClick={() => void remove()} disabled={!active || busy}>
          Delete identity
        </button>
        <span class="download" data-testid="download">
          <select aria-label="archive format" value={archiveFormat} onChange={(e) => setArchiveFormat(e.currentTarget.value)} disabled={!active}>
            <option value="facesets">PNG set</option>
            <option value="dfl">DeepFaceLab</option>
            <option value="faceswap">faceswap</option>
            <option value="lora">LoRA folder</option>
          </select>
          <button
            type="button"
            disabled={!active}
            onClick={() =>
              void download(`/identities/${encodeURIComponent(identity.id)}/archive?format=${archiveFormat}`, `${identity.name}-${archiveFormat}.zip`).catch((err: unknown) =>
                setNotice({ kind: 'error', text: err instanceof Error ? err.message : String(err) }),
              )
            }
          >
            Download as zip
          </button>
        </span>
      </div>

      {active && suggestions ? (
        <div class="panel" data-testid="suggestions">
          <h2>Maybe the same person</h2>
          {suggestions.merge.length === 0 ? (
            <p class="muted">
              No other identity is within centroid distance {suggestions.band.to.toFixed(2)}.
            </p>
          ) : null}
          {suggestions.merge.map(({ identity: s, centroidDistance, closestPairs }) => (
            <div class="suggestion" data-testid="suggestion" data-name={s.name} key={s.id}>
              <Link to={{ page: 'identity', id: s.id }}>{identityTitle(s)}</Link>
              <span class="muted">
                {plural(s.count, 'face')} · centroid distance {centroidDistance.toFixed(3)}
              </span>
              <span class="pairs">
                {closestPairs.slice(0, 2).map((p) => (
                  <span class="pair" key={`${p.faceId}-${p.otherFaceId}`} title={`face distance ${p.distance.toFixed(3)}`}>
                    <Thumb faceId={p.faceId} size={48} alt="" />
                    <Thumb faceId={p.otherFaceId} size={48} alt="" />
                  </span>
                ))}
              </span>
              <button type="button" disabled={busy} onClick={() => void merge(s.id, s.name)}>
                Merge {s.name} into {identity.name}
              </button>
            </div>
          ))}
          {nearer.size ? (
            <p class="muted">
              {plural(nearer.size, 'face')} {nearer.size === 1 ? 'is' : 'are'} nearer another identity than this one (outlined).
            </p>
          ) : null}
        </div>
      ) : null}

      {active ? (
        <div class="actionbar" data-testid="actionbar">
          <span>
            {selected.length ? `${plural(selected.length, 'face')} selected` : 'Click faces to select them (shift-click for a range).'}
          </span>
          <button type="button" disabled={busy || !selected.length} onClick={() => void reject()}>
            Reject (not this person)
          </button>
          <button type="button" disabled={busy || !selected.length || selected.length === identity.faces.length} onClick={() => void split()}>
            Split into a new identity
          </button>
          <button type="button" disabled={busy || !leftOutSelected} onClick={() => void bringBack()}
            title="export the selected left-out faces (near-duplicates, over maxFaces): they are pinned to this identity">
            Export (bring back)
          </button>
          <select aria-label="move to" value={moveTo} onChange={(e) => setMoveTo(e.currentTarget.value)}>
            <option value="">move to…</option>
            {targets.map((t) => (
              <option key={t.id} value={t.id}>
                {identityTitle(t)} ({t.count})
              </option>
            ))}
          </select>
          <button type="button" disabled={busy || !selected.length || !moveTo} onClick={() => void move()}>
            Move
          </button>
          <button type="button" disabled={!selected.length} onClick={() => setSelection(emptySelection)}>
            Clear
          </button>
          <button type="button" onClick={() => setSelection({ selected: new Set(order), anchor: null })}>
            Select all
          </button>
          <label class="sort">
            order{' '}
            <select aria-label="order" value={sort} onChange={(e) => setSort(e.currentTarget.value as FaceSort)}>
              <option value="listed">as exported</option>
              <option value="uncertain">least certain first</option>
              <option value="yaw">by yaw (left to right)</option>
              <option value="pitch">by pitch (down to up)</option>
              <option value="sharpness">sharpest first</option>
              <option value="size">largest first</option>
            </select>
          </label>
        </div>
      ) : null}

      <div class="panel pose-panel">
        <h2>Pose coverage</h2>
        <PosePlot faces={identity.faces} />
        <p class="muted">
          {plural(identity.faces.filter((f) => f.exported).length, 'face')} exported (filled dots)
          {identity.faces.some((f) => !f.exported) ? `, ${identity.faces.filter((f) => !f.exported).length} left out (rings): near-duplicates of a kept shot or over maxFaces. Select one and move it to this identity to export it.` : '.'}
        </p>
      </div>

      <div class="faces" data-testid="faces">
        {groups.map(({ face: f, duplicates }) => {
          const tile = (x: typeof f) => (
            <FaceTile
              key={x.id}
              face={x}
              selected={selection.selected.has(x.id)}
              nearer={nearer.get(x.id)}
              onClick={(shift) => active && setSelection((s) => clickFace(s, order, x.id, shift))}
            />
          );
          if (!duplicates.length) return tile(f);
          return (
            <div class="shot" data-testid="shot" key={f.id}>
              {tile(f)}
              <details class="duplicates" data-testid="duplicates">
                <summary>{plural(duplicates.length, 'near-duplicate')} (not exported)</summary>
                {duplicates.map(tile)}
              </details>
            </div>
          );
        })}
      </div>

      <div class="panel">
        <h2>History</h2>
        {history.length === 0 ? <p class="muted">No decisions yet.</p> : null}
        <ol class="history" data-testid="history">
          {history.map((d) => (
            <li key={d.id} class={d.undoneBy ? 'undone' : ''}>
              <span>{new Date(d.createdAt).toLocaleString()}</span> <strong>{d.kind}</strong>
              {d.faceIds.length ? ` ${plural(d.faceIds.length, 'face')}` : ''}
              {d.identityIds.length > 1 ? ` · ${d.identityIds.length} identities` : ''} <span class="muted">by {d.actor}</span>
              {d.undoneBy ? <span class="muted"> (undone)</span> : null}
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
