// A task's comments: Markdown rendered safely, newest page first from the API's cursor, added
// by editors, edited and deleted by their authors, and others' arriving live. Online only: a
// comment is a message to other people, not something to queue silently.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { messageOf } from '../api/http';
import { createComment, deleteComment, listComments, patchComment } from '../api/comments';
import type { Comment, Member } from '../api/types';
import { mergeById } from '../lib/remote';
import { useReloadCount, withChange } from '../live/useRemote';
import { Markdown } from '../markdown/Markdown';
import { formatDateTime } from '../tasks/format';
import { useWorkspace } from '../tasks/workspace';
import { FormError } from '../ui/Field';

interface CommentsProps {
  taskId: string;
  meId: string;
  /** Editors and owners comment; viewers read. */
  canComment: boolean;
  members: readonly Member[] | null;
}

function CommentForm(props: {
  label: string;
  submitLabel: string;
  initial?: string;
  onSubmit(body: string): Promise<void>;
  onCancel?(): void;
}) {
  const id = useId();
  const [body, setBody] = useState(props.initial ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!body.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await props.onSubmit(body);
      setBody('');
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="stack comment-form"
      onSubmit={(event) => void submit(event)}
      onKeyDown={(event) => event.key === 'Escape' && props.onCancel?.()}
    >
      <div className="field">
        <label htmlFor={id}>{props.label}</label>
        <textarea
          id={id}
          value={body}
          rows={3}
          maxLength={10000}
          aria-describedby={`${id}-md`}
          autoFocus={props.initial !== undefined}
          onChange={(event) => setBody(event.target.value)}
        />
        <p id={`${id}-md`} className="hint">
          Markdown: **bold**, _italic_, lists, [links](https://example.com), `code`.
        </p>
      </div>
      <FormError message={error} />
      <div className="row">
        <button type="submit" className="button primary" disabled={busy}>
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" className="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function CommentView(props: {
  comment: Comment;
  author: string;
  mine: boolean;
  onEdit(body: string): Promise<void>;
  onDelete(): Promise<void>;
}) {
  const { comment, author, mine } = props;
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const headingId = useId();
  return (
    <article className="comment" aria-labelledby={headingId}>
      <header className="comment-head">
        <h3 id={headingId} className="comment-author">
          {author}
        </h3>
        <time dateTime={comment.created_at} className="muted small">
          {formatDateTime(comment.created_at)}
        </time>
        {comment.edited && <span className="muted small">(edited)</span>}
      </header>
      {editing ? (
        <CommentForm
          label="Edit comment"
          submitLabel="Save"
          initial={comment.body}
          onSubmit={async (body) => {
            await props.onEdit(body);
            setEditing(false);
          }}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <Markdown source={comment.body} />
      )}
      {mine && !editing && (
        <div className="row">
          <button type="button" className="button small" onClick={() => setEditing(true)}>
            Edit comment
          </button>
          <button
            type="button"
            className="button small danger"
            onClick={() => void props.onDelete().catch((failure: unknown) => setError(messageOf(failure)))}
          >
            Delete comment
          </button>
        </div>
      )}
      <FormError message={error} />
    </article>
  );
}

export function Comments({ taskId, meId, canComment, members }: CommentsProps) {
  const [comments, setComments] = useState<Comment[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { changes } = useWorkspace();
  const reloads = useReloadCount();

  const load = useCallback(
    async (from: string | null) => {
      try {
        const page = await listComments(taskId, from);
        // A later page may hold a comment live sync brought already.
        setComments((items) => (from ? mergeById(items ?? [], { upserts: page.items, deletes: [] }) : page.items));
        setCursor(page.next_cursor);
      } catch (failure) {
        setError(messageOf(failure));
        setComments((items) => items ?? []);
      }
    },
    [taskId],
  );
  useEffect(() => void load(null), [load, reloads]);
  useEffect(
    () =>
      changes.subscribe('comment', (change) =>
        setComments((items) => {
          const updated = items && withChange(items, change, (comment) => comment.task_id === taskId);
          return updated === items ? items : [...updated!];
        }),
      ),
    [changes, taskId],
  );

  const authorOf = (id: string) => {
    if (id === meId) return 'You';
    const member = members?.find((m) => m.user_id === id);
    return member ? member.display_name || member.email : 'A former member';
  };
  const replace = (comment: Comment) =>
    setComments((items) => (items ?? []).map((c) => (c.id === comment.id ? comment : c)));

  return (
    <section aria-labelledby="comments-heading" className="comments">
      <h2 id="comments-heading">Comments</h2>
      {error && (
        <p role="alert" className="form-error">
          {error}
        </p>
      )}
      {comments === null ? (
        <p className="muted">Loading comments…</p>
      ) : comments.length === 0 ? (
        <p className="muted">No comments yet.</p>
      ) : (
        comments.map((comment) => (
          <CommentView
            key={comment.id}
            comment={comment}
            author={authorOf(comment.author_id)}
            mine={comment.author_id === meId}
            onEdit={async (body) => replace(await patchComment(taskId, comment.id, body))}
            onDelete={async () => {
              await deleteComment(taskId, comment.id);
              setComments((items) => (items ?? []).filter((c) => c.id !== comment.id));
            }}
          />
        ))
      )}
      {cursor && (
        <button type="button" className="button small" onClick={() => void load(cursor)}>
          More comments
        </button>
      )}
      {canComment && (
        <CommentForm
          label="Add a comment"
          submitLabel="Comment"
          onSubmit={async (body) => {
            const comment = await createComment(taskId, body);
            // Live sync may have brought it already.
            setComments((items) => mergeById(items ?? [], { upserts: [comment], deletes: [] }));
          }}
        />
      )}
    </section>
  );
}
