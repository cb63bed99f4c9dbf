import { lang, setLang, t } from '../i18n/i18n.ts';

export function LanguageSwitch() {
  return (
    <button type="button" class="lang" aria-label={t('lang.switchLabel')} onClick={() => setLang(lang.value === 'zh' ? 'en' : 'zh')}>
      {t('lang.switch')}
    </button>
  );
}
