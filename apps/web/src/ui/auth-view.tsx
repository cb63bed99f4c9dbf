import { useState } from 'preact/hooks';
import { showOutboxHint } from '../config.ts';
import { describeError, t } from '../i18n/i18n.ts';
import { im, sessionEndedNotice } from '../state/session.ts';
import { LanguageSwitch } from './language-switch.tsx';

type Step = 'sign-in' | 'register' | 'code';

/**
 * Register, then the two-step login: email and password ask the server to mail a code; the code
 * (with the same email and password) signs in. With verification off, step 1 signs in at once.
 */
export function AuthView() {
  const [step, setStep] = useState<Step>('sign-in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [username, setUsername] = useState('');
  const [code, setCode] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError('');
    try {
      await action();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  /** Step 1: the code goes out (or, without verification, we are in). */
  async function requestCode() {
    const result = await im.login({ email, password });
    if (result.status === 'code-sent') {
      setCode('');
      setStep('code');
    }
  }

  const onSubmit = (event: Event) => {
    event.preventDefault();
    if (step === 'register') {
      void run(async () => {
        await im.register({ email, username, password });
        setNote(t('auth.created'));
        await requestCode();
      });
    } else if (step === 'sign-in') {
      void run(async () => {
        setNote('');
        await requestCode();
      });
    } else {
      void run(async () => {
        await im.login({ email, password, code: code.trim() });
      });
    }
  };

  const tab = (target: Step, label: string) => (
    <button
      type="button"
      role="tab"
      aria-selected={step === target}
      class={step === target ? 'tab active' : 'tab'}
      onClick={() => {
        setStep(target);
        setError('');
        setNote('');
      }}
    >
      {label}
    </button>
  );

  return (
    <main class="auth">
      <div class="auth-card">
        <header class="auth-header">
          <h1>{t('app.title')}</h1>
          <LanguageSwitch />
        </header>
        {sessionEndedNotice.value && step !== 'code' && (
          <p class="notice" role="status">
            {t('auth.sessionEnded')}
          </p>
        )}
        {step !== 'code' && (
          <div class="tabs" role="tablist">
            {tab('sign-in', t('auth.signIn'))}
            {tab('register', t('auth.register'))}
          </div>
        )}
        <form onSubmit={onSubmit} aria-busy={busy} aria-label={step === 'register' ? t('auth.register') : t('auth.signIn')}>
          {step === 'code' ? (
            <>
              {note && <p class="notice">{note}</p>}
              <p class="notice" role="status">
                {t('auth.codeSent', { email })}
              </p>
              <label>
                {t('auth.code')}
                <input
                  name="code"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  pattern="[0-9]{6}"
                  maxLength={6}
                  required
                  autoFocus
                  value={code}
                  onInput={(e) => setCode(e.currentTarget.value)}
                />
              </label>
              <button type="submit" class="primary" disabled={busy}>
                {busy ? t('auth.working') : t('auth.verify')}
              </button>
              <div class="row">
                <button type="button" class="link" disabled={busy} onClick={() => void run(requestCode)}>
                  {t('auth.resend')}
                </button>
                <button type="button" class="link" onClick={() => setStep('sign-in')}>
                  {t('auth.back')}
                </button>
              </div>
              {showOutboxHint && (
                <details class="hint">
                  <summary>{t('auth.noCodeTitle')}</summary>
                  <p>{t('auth.noCodeBody')}</p>
                </details>
              )}
            </>
          ) : (
            <>
              <label>
                {t('auth.email')}
                <input
                  name="email"
                  type="email"
                  autoComplete="email"
                  required
                  value={email}
                  onInput={(e) => setEmail(e.currentTarget.value)}
                />
              </label>
              {step === 'register' && (
                <label>
                  {t('auth.username')}
                  <input
                    name="username"
                    autoComplete="username"
                    required
                    maxLength={32}
                    aria-describedby="username-hint"
                    value={username}
                    onInput={(e) => setUsername(e.currentTarget.value)}
                  />
                  <small id="username-hint">{t('auth.usernameHint')}</small>
                </label>
              )}
              <label>
                {t('auth.password')}
                <input
                  name="password"
                  type="password"
                  autoComplete={step === 'register' ? 'new-password' : 'current-password'}
                  required
                  minLength={8}
                  maxLength={128}
                  aria-describedby={step === 'register' ? 'password-hint' : undefined}
                  value={password}
                  onInput={(e) => setPassword(e.currentTarget.value)}
                />
                {step === 'register' && <small id="password-hint">{t('auth.passwordHint')}</small>}
              </label>
              <button type="submit" class="primary" disabled={busy}>
                {busy ? t('auth.working') : step === 'register' ? t('auth.register') : t('auth.sendCode')}
              </button>
            </>
          )}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
        </form>
      </div>
    </main>
  );
}
