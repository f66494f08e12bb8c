// Reports (/panel/manager/reports): the statistics of a day, a week, a month or any range,
// filtered by case type, counter and clerk (GET /api/v1/reports/summary); charts drawn here as
// SVG, each followed by a table with the same numbers for screen readers and print; CSV
// exports; a printable daily summary; and staffing by the Erlang C model
// (GET /api/v1/reports/staffing). The definitions are in docs/STATISTICS.md.

import { $, ROLE, api, fill, h, showSignIn, whoAmI } from '/panel/js/common.js';

const SVG = 'http://www.w3.org/2000/svg';
const WEEKDAYS = ['poniedziałek', 'wtorek', 'środa', 'czwartek', 'piątek', 'sobota', 'niedziela'];
const WEEKDAYS_SHORT = ['pn', 'wt', 'śr', 'cz', 'pt', 'sb', 'nd'];
const VIEWS = ['loading', 'signin', 'denied', 'reports'];

const S = { office: null, report: null, printAfter: false };

const nf0 = new Intl.NumberFormat('pl-PL', { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat('pl-PL', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('pl-PL', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

// ------------------------------------------------------------------ formats

/** Seconds as m:ss or h:mm:ss; "—" for none. */
function dur(secs) {
  if (secs === null || secs === undefined || Number.isNaN(secs)) return '—';
  const s = Math.round(secs);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** Seconds as hours with one decimal ("7,5 h"). */
function hours(secs) {
  return secs === null || secs === undefined ? '—' : `${nf1.format(secs / 3600)} h`;
}

/** A share 0..1 as "87,5%". */
function pct(share) {
  return share === null || share === undefined ? '—' : `${nf1.format(share * 100)}%`;
}

function num(n) {
  return n === null || n === undefined ? '—' : nf0.format(n);
}

/** YYYY-MM-DD of a local date. */
function iso(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function parseIso(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

function plDate(s) {
  const d = parseIso(s);
  return d ? d.toLocaleDateString('pl-PL', { day: 'numeric', month: 'long', year: 'numeric' }) : s;
}

function caseName(code) {
  const ct = S.office && S.office.case_types.find((c) => c.code === code);
  return ct ? ct.name.pl : code;
}

// ------------------------------------------------------------------ views and access

function show(view) {
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
}

async function boot() {
  show('loading');
  api.onSignedOut = () => signInView('Sesja wygasła. Zaloguj się ponownie.');
  let me;
  try {
    me = await whoAmI();
  } catch {
    fill(
      $('#view-loading'),
      h('p', { class: 'notice error', role: 'alert', text: 'Brak połączenia z serwerem.' }),
      h('button', { type: 'button', onclick: boot, text: 'Spróbuj ponownie' }),
    );
    return;
  }
  if (!me) signInView();
  else signedIn(me);
}

function signInView(message) {
  $('#who').textContent = '';
  show('signin');
  showSignIn($('#view-signin'), { onSignedIn: signedIn, message, title: 'Logowanie do raportów' });
}

async function signedIn(me) {
  $('#who').textContent = `${me.user} (${ROLE[me.role] || me.role})`;
  if (me.role === 'clerk') {
    $('#denied-text').textContent =
      `Raporty są dla kierowników i administratorów. Twoje konto (${me.user}) ma rolę: ${ROLE[me.role] || me.role}.`;
    show('denied');
    $('#denied-h').focus();
    return;
  }
  show('reports');
  try {
    S.office = await api.ok('GET', '/api/v1/office');
  } catch (e) {
    failure(e.message);
  }
  S.today = await officeToday();
  setUpForm();
  await loadReport(false);
  await loadStaffing();
}

function failure(text) {
  const el = $('#failure');
  el.textContent = text || '';
  el.hidden = !text;
}

function say(text) {
  const el = $('#sr-status');
  el.textContent = '';
  setTimeout(() => {
    el.textContent = text;
  }, 50);
}

// ------------------------------------------------------------------ the form

/**
 * The office's current day from the server (Europe/Warsaw, not this computer's clock or time
 * zone, which may differ around midnight or on a misconfigured PC); this computer's date only
 * if the server does not say.
 */
async function officeToday() {
  try {
    const resp = await fetch('/healthz', { cache: 'no-store' });
    const health = await resp.json();
    if (typeof health.day === 'string' && parseIso(health.day)) return health.day;
  } catch {
    /* fall back below */
  }
  return iso(new Date());
}

function setUpForm() {
  const params = new URLSearchParams(location.search);
  const today = S.today || iso(new Date());
  $('#r-from').value = params.get('from') || today;
  $('#r-to').value = params.get('to') || $('#r-from').value;
  const ctSel = $('#r-case-type');
  ctSel.replaceChildren(h('option', { value: '', text: 'wszystkie' }));
  for (const ct of (S.office && S.office.case_types) || []) {
    ctSel.append(h('option', { value: ct.code, text: `${ct.prefix} – ${ct.name.pl}` }));
  }
  ctSel.value = params.get('case_type') || '';
  const cSel = $('#r-counter');
  cSel.replaceChildren(h('option', { value: '', text: 'wszystkie' }));
  for (const c of (S.office && S.office.counters) || []) {
    cSel.append(h('option', { value: String(c.id), text: c.name.pl }));
  }
  cSel.value = params.get('counter') || '';
  $('#r-clerk').value = params.get('clerk') || '';
  const yesterday = parseIso(today);
  yesterday.setDate(yesterday.getDate() - 1);
  $('#s-to').value = iso(yesterday);

  $('#form-report').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadReport(true);
  });
  for (const b of document.querySelectorAll('[data-range]')) {
    b.addEventListener('click', () => {
      const to = parseIso($('#r-to').value) || new Date();
      const from = new Date(to);
      const kind = b.getAttribute('data-range');
      if (kind === 'week') from.setDate(to.getDate() - 6);
      if (kind === 'month') from.setMonth(to.getMonth() - 1, to.getDate() + 1);
      if (kind === 'year') from.setFullYear(to.getFullYear() - 1, to.getMonth(), to.getDate() + 1);
      $('#r-from').value = iso(from);
      $('#r-to').value = iso(to);
      loadReport(true);
    });
  }
  $('#btn-print').addEventListener('click', () => {
    const day = $('#r-to').value || S.today || iso(new Date());
    $('#r-from').value = day;
    $('#r-to').value = day;
    S.printAfter = true;
    loadReport(true);
  });
  $('#form-staffing').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadStaffing();
  });
}

function reportQuery() {
  const q = new URLSearchParams();
  q.set('from', $('#r-from').value);
  q.set('to', $('#r-to').value || $('#r-from').value);
  for (const [k, id] of [['case_type', '#r-case-type'], ['counter', '#r-counter'], ['clerk', '#r-clerk']]) {
    const v = $(id).value.trim();
    if (v) q.set(k, v);
  }
  return q;
}

async function loadReport(focus) {
  failure('');
  const q = reportQuery();
  history.replaceState(null, '', `?${q}`);
  const title = $('#report-title');
  title.textContent = 'Liczę…';
  let r;
  try {
    r = await api.request('GET', `/api/v1/reports/summary?${q}`);
  } catch {
    failure('Brak połączenia z serwerem. Spróbuj ponownie za chwilę.');
    title.textContent = '';
    return;
  }
  if (r.status !== 200) {
    failure((r.data && r.data.message) || `Błąd serwera (${r.status})`);
    title.textContent = '';
    return;
  }
  S.report = r.data;
  render(r.data, q);
  if (focus) title.focus();
  say(`Raport gotowy: ${title.textContent}`);
  if (S.printAfter) {
    S.printAfter = false;
    window.print();
  }
}

// ------------------------------------------------------------------ the report

function render(rep, q) {
  const f = rep.filters;
  const parts = [];
  if (f.case_type) parts.push(caseName(f.case_type));
  if (f.counter) parts.push(`stanowisko ${f.counter}`);
  if (f.clerk) parts.push(`urzędnik ${f.clerk}`);
  const range = rep.from === rep.to ? plDate(rep.from) : `${plDate(rep.from)} – ${plDate(rep.to)}`;
  $('#report-title').textContent =
    `${rep.from === rep.to ? 'Podsumowanie dnia' : 'Raport'}: ${range}` +
    `${parts.length ? ` (${parts.join(', ')})` : ''} · dni z ruchem: ${rep.days}`;
  $('#report').hidden = false;
  renderKpis(rep.totals);
  renderCaseTypes(rep);
  // One day needs no day-by-day chart (the daily summary).
  $('#days-h').closest('section').hidden = rep.from === rep.to;
  renderDays(rep);
  renderHours(rep);
  renderHeatmap(rep);
  renderWork('#t-counters', rep.counters, 'Stanowisko', (w) => String(w.counter));
  renderWork('#t-clerks', rep.clerks, 'Urzędnik', (w) => w.clerk);
  const clerks = $('#r-clerks');
  clerks.replaceChildren(...rep.clerks.map((w) => h('option', { value: w.clerk })));
  renderExports(q);
}

function renderKpis(t) {
  const items = [
    ['Wydane bilety', num(t.issued)],
    ['Obsłużeni', num(t.served)],
    ['Nieobecni', num(t.no_show)],
    ['Anulowane', num(t.cancelled)],
    ['Przekierowane', num(t.transferred)],
    ['Średnie oczekiwanie', dur(t.wait.mean_s)],
    ['90% czekało najwyżej', dur(t.wait.p90_s)],
    ['Średnia obsługa', dur(t.service.mean_s)],
    ['W standardzie', pct(t.within_target.share)],
  ];
  fill($('#kpis'), items.map(([k, v]) => h('div', { class: 'kpi' }, h('dt', { text: k }), h('dd', { text: v }))));
}

function table(sel, headers, rows) {
  const t = $(sel);
  fill(t.tHead, h('tr', {}, headers.map(([label, numeric]) => h('th', { scope: 'col', class: numeric ? 'num' : null, text: label }))));
  fill(
    t.tBodies[0],
    rows.map((cells) =>
      h('tr', {}, cells.map((c, i) => {
        const [text, numeric] = Array.isArray(c) ? c : [c, headers[i] && headers[i][1]];
        return i === 0 ? h('th', { scope: 'row', text }) : h('td', { class: numeric ? 'num' : null, text });
      })),
    ),
  );
}

const FIGURE_HEADERS = [
  ['Wydane', true], ['Obsłużeni', true], ['Nieobecni', true], ['Anulowane', true], ['Przekierowane', true],
  ['Oczekiwanie: średnia', true], ['Oczekiwanie: mediana', true], ['Oczekiwanie: 90. percentyl', true], ['Oczekiwanie: maksimum', true],
  ['Obsługa: średnia', true], ['Obsługa: mediana', true], ['Obsługa: 90. percentyl', true], ['Obsługa: maksimum', true],
  ['W standardzie', true],
];

function figureCells(f) {
  return [
    num(f.issued), num(f.served), num(f.no_show), num(f.cancelled), num(f.transferred),
    dur(f.wait.mean_s), dur(f.wait.median_s), dur(f.wait.p90_s), dur(f.wait.max_s),
    dur(f.service.mean_s), dur(f.service.median_s), dur(f.service.p90_s), dur(f.service.max_s),
    pct(f.within_target.share),
  ];
}

function renderCaseTypes(rep) {
  const rows = rep.case_types.map((c) => [
    `${c.name || c.code}${c.target_wait_min ? ` (cel ${c.target_wait_min} min)` : ''}`,
    ...figureCells(c.figures),
  ]);
  rows.push(['Razem', ...figureCells(rep.totals)]);
  table('#t-case-types', [['Rodzaj sprawy', false], ...FIGURE_HEADERS], rows);
}

// ------------------------------------------------------------------ charts (SVG)

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A rounded-up axis maximum with 4 or 5 ticks. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

/**
 * A bar chart as an SVG figure, followed by a table of the same numbers (the text
 * alternative). `series`: [{ name, cls, values }]; `fmt` formats a value for the axis and table.
 */
function barChart({ id, title, labels, series, fmt, tableHead }) {
  const W = 900;
  const H = 260;
  const left = 56;
  const bottom = 36;
  const top = 10;
  const plotW = W - left - 10;
  const plotH = H - top - bottom;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null))));
  const group = plotW / Math.max(1, labels.length);
  const barW = Math.min(40, Math.max(1, (group * 0.8) / series.length));
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-labelledby': `${titleId} ${descId}`,
    class: 'chart',
    preserveAspectRatio: 'xMidYMid meet',
  });
  chart.append(
    svg('title', { id: titleId }, title),
    svg('desc', { id: descId }, `Wykres słupkowy: ${series.map((s) => s.name).join(', ')}. Te same liczby są w tabeli pod wykresem.`),
  );
  for (let i = 0; i <= 4; i += 1) {
    const v = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    chart.append(
      svg('line', { x1: left, x2: W - 10, y1: y, y2: y, class: 'grid' }),
      svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, fmt(v)),
    );
  }
  const every = Math.max(1, Math.ceil(labels.length / 16));
  labels.forEach((label, i) => {
    const x0 = left + group * i + (group - barW * series.length) / 2;
    series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      const bh = (plotH * v) / max;
      chart.append(svg('rect', { x: x0 + k * barW, y: top + plotH - bh, width: barW, height: Math.max(0, bh), class: `bar ${s.cls}` }));
    });
    if (i % every === 0) {
      chart.append(svg('text', { x: left + group * i + group / 2, y: H - bottom + 16, 'text-anchor': 'middle', class: 'axis' }, label));
    }
  });
  const legend = h('ul', { class: 'legend' }, series.map((s) => h('li', {}, h('span', { class: `swatch ${s.cls}`, 'aria-hidden': 'true' }), s.name)));
  const tbl = h(
    'table',
    { class: 'chart-data' },
    h('caption', { text: `${title}: dane wykresu` }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: tableHead }), series.map((s) => h('th', { scope: 'col', class: 'num', text: s.name })))),
    h('tbody', {}, labels.map((label, i) => h('tr', {}, h('th', { scope: 'row', text: label }), series.map((s) => h('td', { class: 'num', text: s.values[i] === null ? '—' : fmt(s.values[i]) }))))),
  );
  return h('figure', { class: 'chart-figure' }, chart, h('figcaption', {}, legend), scrolling(`${title}: dane wykresu`, tbl));
}

/** A wrapper that scrolls a wide table sideways and can be scrolled from the keyboard. */
function scrolling(label, ...children) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': `${label} (tabela przewijana)` }, ...children);
}

function renderDays(rep) {
  const days = rep.by_day;
  if (days.length === 0) {
    fill($('#chart-days'), h('p', { class: 'hint', text: 'Brak biletów w tym zakresie.' }));
    return;
  }
  const labels = days.map((d) => `${d.day.slice(8, 10)}.${d.day.slice(5, 7)}`);
  fill(
    $('#chart-days'),
    barChart({
      id: 'chart-days',
      title: 'Bilety wydane i obsłużone dzień po dniu',
      labels,
      tableHead: 'Dzień',
      series: [
        { name: 'Wydane', cls: 's1', values: days.map((d) => d.figures.issued) },
        { name: 'Obsłużeni', cls: 's2', values: days.map((d) => d.figures.served) },
      ],
      fmt: (v) => nf0.format(v),
    }),
    barChart({
      id: 'chart-days-wait',
      title: 'Średnie oczekiwanie dzień po dniu (minuty)',
      labels,
      tableHead: 'Dzień',
      series: [{ name: 'Średnie oczekiwanie [min]', cls: 's3', values: days.map((d) => (d.figures.wait.mean_s === null ? null : d.figures.wait.mean_s / 60)) }],
      fmt: (v) => nf1.format(v),
    }),
  );
}

function renderHours(rep) {
  const used = rep.by_hour.filter((x) => x.arrivals > 0);
  if (used.length === 0) {
    fill($('#chart-hours'), h('p', { class: 'hint', text: 'Brak biletów w tym zakresie.' }));
    return;
  }
  const first = used[0].hour;
  const last = used[used.length - 1].hour;
  const hoursUsed = rep.by_hour.filter((x) => x.hour >= first && x.hour <= last);
  const labels = hoursUsed.map((x) => `${x.hour}:00`);
  fill(
    $('#chart-hours'),
    barChart({
      id: 'chart-hours',
      title: 'Przybyli na dzień według godziny pobrania biletu',
      labels,
      tableHead: 'Godzina',
      series: [{ name: 'Przybyli na dzień', cls: 's1', values: hoursUsed.map((x) => x.arrivals_per_day) }],
      fmt: (v) => nf1.format(v),
    }),
    barChart({
      id: 'chart-hours-wait',
      title: 'Średnie oczekiwanie według godziny pobrania biletu (minuty)',
      labels,
      tableHead: 'Godzina',
      series: [{ name: 'Średnie oczekiwanie [min]', cls: 's3', values: hoursUsed.map((x) => (x.wait_mean_s === null ? null : x.wait_mean_s / 60)) }],
      fmt: (v) => nf1.format(v),
    }),
  );
}

function renderHeatmap(rep) {
  const cells = rep.heatmap;
  const hoursUsed = [...new Set(cells.filter((c) => c.arrivals > 0).map((c) => c.hour))].sort((a, b) => a - b);
  const daysUsed = [1, 2, 3, 4, 5, 6, 7].filter((w) => cells.some((c) => c.weekday === w && (c.days > 0 || c.arrivals > 0)));
  if (hoursUsed.length === 0) {
    fill($('#heatmap'), h('p', { class: 'hint', text: 'Brak biletów w tym zakresie.' }));
    return;
  }
  const max = Math.max(...cells.map((c) => c.arrivals_per_day));
  const level = (v) => (v <= 0 ? 0 : Math.min(4, 1 + Math.floor((v / max) * 3.999)));
  const tbl = h(
    'table',
    { class: 'heat' },
    h('caption', { text: 'Przybyli na dzień (w nawiasie: średnie oczekiwanie w minutach)' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Dzień tygodnia' }), hoursUsed.map((hr) => h('th', { scope: 'col', class: 'num', text: `${hr}:00` })))),
    h(
      'tbody',
      {},
      daysUsed.map((w) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, h('abbr', { title: WEEKDAYS[w - 1], text: WEEKDAYS_SHORT[w - 1] }), ` (${cells.find((c) => c.weekday === w).days} dni)`),
          hoursUsed.map((hr) => {
            const c = cells[(w - 1) * 24 + hr];
            const wait = c.wait_mean_s === null ? '' : ` (${nf0.format(c.wait_mean_s / 60)})`;
            return h('td', { class: `num lvl${level(c.arrivals_per_day)}`, text: `${nf1.format(c.arrivals_per_day)}${wait}` });
          }),
        ),
      ),
    ),
  );
  const legend = h(
    'ul',
    { class: 'legend' },
    [0, 1, 2, 3, 4].map((l) => h('li', {}, h('span', { class: `swatch lvl${l}`, 'aria-hidden': 'true' }), ['brak', 'mało', 'średnio', 'dużo', 'najwięcej'][l])),
  );
  fill($('#heatmap'), scrolling('Mapa tygodnia', tbl), legend);
}

function renderWork(sel, rows, first, name) {
  table(
    sel,
    [[first, false], ['Obsłużeni', true], ['Nieobecni', true], ['Otwarte', true], ['Przerwy', true], ['Zajęte', true], ['Obsługa', true], ['Bezczynne', true], ['Obsłużeni na godzinę', true], ['Wykorzystanie', true]],
    rows.map((w) => [
      name(w), num(w.served), num(w.no_show), hours(w.open_s), hours(w.paused_s), hours(w.busy_s), hours(w.serving_s), hours(w.idle_s),
      w.served_per_open_hour === null ? '—' : nf2.format(w.served_per_open_hour), pct(w.utilization),
    ]),
  );
}

function renderExports(q) {
  const tables = [
    ['summary', 'Podsumowanie według rodzaju sprawy'],
    ['days', 'Dzień po dniu'],
    ['hours', 'Godziny dnia'],
    ['heatmap', 'Mapa tygodnia'],
    ['counters', 'Stanowiska'],
    ['clerks', 'Urzędnicy'],
  ];
  fill(
    $('#exports'),
    tables.map(([t, label]) => {
      const p = new URLSearchParams(q);
      p.set('table', t);
      return h('li', {}, h('a', { href: `/api/v1/reports/export.csv?${p}`, download: '', text: `${label} (CSV)` }));
    }),
  );
}

// ------------------------------------------------------------------ staffing

async function loadStaffing() {
  const q = new URLSearchParams();
  if ($('#s-to').value) q.set('to', $('#s-to').value);
  q.set('weeks', $('#s-weeks').value || '8');
  const share = Number($('#s-share').value || '80');
  q.set('share', String(share / 100));
  if ($('#s-weekday').value) q.set('weekday', $('#s-weekday').value);
  let r;
  try {
    r = await api.request('GET', `/api/v1/reports/staffing?${q}`);
  } catch {
    $('#staffing-summary').textContent = 'Brak połączenia z serwerem.';
    return;
  }
  if (r.status !== 200) {
    $('#staffing-summary').textContent = (r.data && r.data.message) || `Błąd serwera (${r.status})`;
    return;
  }
  const s = r.data;
  $('#staffing-summary').textContent =
    `Okres ${plDate(s.from)} – ${plDate(s.to)}: ${s.days} dni z ruchem` +
    `${s.weekday ? ` (${WEEKDAYS[s.weekday - 1]})` : ''}; cel: ${nf0.format(s.share * 100)}% osób wezwanych w czasie docelowym.`;
  const blocks = s.case_types
    .filter((ct) => ct.hours.length > 0)
    .map((ct) => {
      const tbl = h(
        'table',
        {},
        h('caption', { text: `${ct.name}: cel ${ct.target_wait_min} min, średnia obsługa ${dur(ct.mean_service_s)} (${ct.service_time_source === 'measured' ? 'zmierzona' : 'z konfiguracji'})` }),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Godzina', 'Przybyli na godzinę', 'Obciążenie [Erl]', 'Potrzebne stanowiska', 'Otwarte stanowiska', 'Ocena', 'W normie przy potrzebnych', 'W normie przy otwartych', 'W normie zmierzone'].map((t, i) =>
              h('th', { scope: 'col', class: i === 0 || i === 5 ? null : 'num', text: t }),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ct.hours.map((x) => {
            const short = x.counters_open + 0.05 < x.counters_needed;
            return h(
              'tr',
              {},
              h('th', { scope: 'row', text: `${x.hour}:00` }),
              h('td', { class: 'num', text: nf1.format(x.arrivals_per_hour) }),
              h('td', { class: 'num', text: nf2.format(x.offered_load) }),
              h('td', { class: 'num', text: num(x.counters_needed) }),
              h('td', { class: 'num', text: nf1.format(x.counters_open) }),
              h('td', {}, h('span', { class: `badge ${short ? 'bad' : 'ok'}`, text: short ? 'za mało' : 'wystarcza' })),
              h('td', { class: 'num', text: pct(x.predicted_share) }),
              h('td', { class: 'num', text: pct(x.predicted_share_open) }),
              h('td', { class: 'num', text: pct(x.measured_share) }),
            );
          }),
        ),
      );
      return scrolling(`Obsada: ${ct.name}`, tbl);
    });
  fill($('#staffing-tables'), blocks.length ? blocks : h('p', { class: 'hint', text: 'Brak danych w wybranym okresie.' }));
}

boot();
