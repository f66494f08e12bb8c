// What an announcement says, as a list of recorded segments (display/audio/, made by
// scripts/make-voice.sh) and as plain text for the speech-synthesis fallback.
//
//   phrase('pl', 'A012', 3) → "Numer A 12, stanowisko 3":
//   numer, l-a, n-12, (pause), stanowisko, n-3
//
// Numbers are read as words without leading zeros (A012 is "A dwanaście"), composed from the
// words for 0-19, the tens, the hundreds and thousand with its plural forms; numbers of a
// million or more (which no office reaches) are read digit by digit.

export const AUDIO_BASE = '/display/audio/';
export const LANGS = ['pl', 'uk', 'en'];
export const PAUSE = 'pause';

const WORDS = {
  pl: { number: 'Numer', counter: 'stanowisko', speech: 'pl-PL' },
  uk: { number: 'Номер', counter: 'вікно', speech: 'uk-UA' },
  en: { number: 'Number', counter: 'counter', speech: 'en-GB' },
};

/** The BCP 47 tag for speech synthesis in `lang`. */
export function speechLang(lang) {
  return (WORDS[lang] || WORDS.pl).speech;
}

/** 'A012' → { prefix: 'A', n: 12 }; null if it is not a ticket number. */
export function parseTicket(number) {
  const m = /^([A-Za-z]{1,3})\s*0*(\d{1,9})$/.exec(String(number).trim());
  if (!m) return null;
  return { prefix: m[1].toUpperCase(), n: Number(m[2]) };
}

function below1000(n) {
  if (n === 0) return ['n-0'];
  const out = [];
  const h = Math.floor(n / 100) * 100;
  const rest = n % 100;
  if (h) out.push(`n-${h}`);
  if (rest >= 20) {
    out.push(`n-${Math.floor(rest / 10) * 10}`);
    if (rest % 10) out.push(`n-${rest % 10}`);
  } else if (rest > 0) {
    out.push(`n-${rest}`);
  }
  return out;
}

// Slavic plural of "thousand": 1 → k-1; 2-4 (but not 12-14) → k-2; otherwise k-5.
function thousandForm(t) {
  const last = t % 10;
  const tens = Math.floor(t / 10) % 10;
  if (tens !== 1 && last >= 2 && last <= 4) return 'k-2';
  if (t !== 1 && tens !== 1 && last === 1) return 'k-1'; // 21 000: "двадцять одна тисяча"
  return t === 1 ? 'k-1' : 'k-5';
}

/** The segment names (without language) that say the number `n` in `lang`. */
export function numberSegments(lang, n) {
  n = Math.floor(Math.abs(Number(n) || 0));
  if (n >= 1_000_000) return String(n).split('').map((d) => `n-${d}`);
  if (n < 1000) return below1000(n);
  const t = Math.floor(n / 1000);
  const r = n % 1000;
  let out;
  if (lang === 'en') {
    out = [...below1000(t), 'k-1'];
  } else if (t === 1) {
    out = ['k-1'];
  } else {
    const words = below1000(t);
    // Polish counts 21 000 as "dwadzieścia jeden tysięcy" (k-5); Ukrainian uses the
    // feminine "одна/дві" before тисяча and agrees with the last word.
    if (lang === 'uk') {
      const lastWord = words[words.length - 1];
      if (lastWord === 'n-1') words[words.length - 1] = 'n-1f';
      if (lastWord === 'n-2') words[words.length - 1] = 'n-2f';
      out = [...words, thousandForm(t)];
    } else {
      const form = thousandForm(t);
      out = [...words, form === 'k-1' ? 'k-5' : form];
    }
  }
  if (r) out.push(...below1000(r));
  return out;
}

/**
 * One language's part of an announcement: the segment URLs (with PAUSE where the comma is)
 * and the same as text.
 */
export function phrase(lang, number, counter) {
  if (!WORDS[lang]) lang = 'pl';
  const w = WORDS[lang];
  const t = parseTicket(number);
  const url = (name) => `${AUDIO_BASE}${lang}/${name}.ogg`;
  const segments = [url('numer')];
  let spoken;
  if (t) {
    for (const letter of t.prefix.toLowerCase()) segments.push(url(`l-${letter}`));
    segments.push(...numberSegments(lang, t.n).map(url));
    spoken = `${t.prefix} ${t.n}`;
  } else {
    // Not a ticket number we can read from segments: the fallback speaks it.
    spoken = String(number);
  }
  segments.push(PAUSE, url('stanowisko'), ...numberSegments(lang, counter).map(url));
  return {
    lang,
    segments: t ? segments : null,
    text: `${w.number} ${spoken}, ${w.counter} ${counter}`,
  };
}

/** Every segment file, for preloading and for the test that every one decodes. */
export function allSegmentUrls() {
  const names = ['numer', 'stanowisko', 'k-1', 'k-2', 'k-5'];
  for (let i = 0; i < 20; i++) names.push(`n-${i}`);
  for (let i = 20; i < 100; i += 10) names.push(`n-${i}`);
  for (let i = 100; i < 1000; i += 100) names.push(`n-${i}`);
  for (const l of 'abcdefghijklmnopqrstuvwxyz') names.push(`l-${l}`);
  const urls = [`${AUDIO_BASE}chime.ogg`];
  for (const lang of LANGS) {
    for (const n of names) urls.push(`${AUDIO_BASE}${lang}/${n}.ogg`);
  }
  urls.push(`${AUDIO_BASE}uk/n-1f.ogg`, `${AUDIO_BASE}uk/n-2f.ogg`);
  return urls;
}
