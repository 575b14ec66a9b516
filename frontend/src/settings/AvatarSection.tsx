// Avatar: pick an image, preview it, upload it (the server checks, resizes and re-encodes).
// The preview is a data: URL because the CSP allows images from 'self' and data: only.
import { useState, type ChangeEvent } from 'react';
import { removeAvatar, uploadAvatar } from '../api/account';
import type { Avatar } from '../api/types';
import { useAuth, useUser } from '../auth/AuthContext';
import { FormError } from '../ui/Field';
import { useAsyncAction } from './useAsyncAction';

export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];

function readAsDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('The file could not be read.'));
    reader.readAsDataURL(file);
  });
}

export function AvatarImage({ avatar }: { avatar: Avatar }) {
  return (
    <img
      className="avatar"
      src={avatar.url_1x}
      srcSet={`${avatar.url_1x} 1x, ${avatar.url_2x} 2x`}
      width={96}
      height={96}
      alt=""
    />
  );
}

export function AvatarSection() {
  const user = useUser();
  const { setUser } = useAuth();
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [pickError, setPickError] = useState<string | null>(null);
  const { busy, error, done, run } = useAsyncAction();

  async function pick(event: ChangeEvent<HTMLInputElement>) {
    const chosen = event.target.files?.[0] ?? null;
    setPickError(null);
    setFile(null);
    setPreview(null);
    if (!chosen) return;
    if (!AVATAR_TYPES.includes(chosen.type)) {
      setPickError('Choose a PNG, JPEG, WebP or GIF image.');
      return;
    }
    setFile(chosen);
    setPreview(await readAsDataUrl(chosen));
  }

  function upload() {
    if (!file) return;
    void run(async () => {
      const avatar = await uploadAvatar(file);
      setUser({ ...user, avatar });
      setFile(null);
      setPreview(null);
    }, 'Avatar updated.');
  }

  function remove() {
    void run(async () => {
      await removeAvatar();
      setUser({ ...user, avatar: null });
    }, 'Avatar removed.');
  }

  return (
    <section className="card" aria-labelledby="avatar-heading">
      <h2 id="avatar-heading">Avatar</h2>
      <div className="avatar-row">
        {preview ? (
          <img className="avatar" src={preview} width={96} height={96} alt="Preview of the chosen image" />
        ) : user.avatar ? (
          <AvatarImage avatar={user.avatar} />
        ) : (
          <span className="avatar placeholder" aria-hidden="true">
            {(user.display_name || user.email).slice(0, 1).toUpperCase()}
          </span>
        )}
        <div className="stack">
          <div className="field">
            <label htmlFor="avatar-file">Choose an image</label>
            <input
              id="avatar-file"
              type="file"
              accept={AVATAR_TYPES.join(',')}
              onChange={(event) => void pick(event)}
            />
          </div>
          <FormError message={pickError ?? error} />
          <p aria-live="polite" className="success">
            {done ?? ''}
          </p>
          <div className="row wrap">
            <button type="button" className="button primary" onClick={upload} disabled={!file || busy}>
              Upload avatar
            </button>
            {user.avatar && (
              <button type="button" className="button" onClick={remove} disabled={busy}>
                Remove avatar
              </button>
            )}
          </div>
        </div>
      </div>
    </section>
  );
}
