// Asks for the API token when the API answers 401; keeps it in this browser's localStorage.
import { useState } from 'preact/hooks';
import { storeToken, storedToken } from '../api';

export function TokenForm({ onSaved }: { onSaved: () => void }) {
  const [value, setValue] = useState('');
  const had = storedToken() !== null;
  return (
    <form
      class="panel token-form"
      data-testid="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        storeToken(value.trim() || null);
        onSaved();
      }}
    >
      <h2>This API asks for a token</h2>
      <p>
        {had ? 'The stored token was refused. ' : ''}Enter the API_TOKEN the service runs with. It is kept in this browser
        (localStorage) and sent as <code>Authorization: Bearer …</code>.
      </p>
      <input type="password" name="token" aria-label="API token" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      <button type="submit">Use token</button>
    </form>
  );
}
