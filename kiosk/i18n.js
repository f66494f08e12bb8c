// The kiosk's and the phone page's words in Polish, Ukrainian and English, with the plural
// forms each language needs (Polish and Ukrainian have three: 1 osoba, 2 osoby, 5 osób).

export const LANGS = ['pl', 'uk', 'en'];

/** The name of each language in itself, for the language buttons. */
export const LANG_NAMES = { pl: 'Polski', uk: 'Українська', en: 'English' };

const T = {
  pl: {
    title: 'Biletomat',
    languages: 'Język',
    chooseCase: 'W jakiej sprawie przychodzisz?',
    chooseHint: 'Dotknij przycisku ze swoją sprawą.',
    waitingNone: 'Nikt nie czeka',
    waiting: (n) => `Czeka: ${n} ${plural('pl', n, ['osoba', 'osoby', 'osób'])}`,
    waitAbout: (m) => `ok. ${m} min`,
    waitUnderMinute: 'poniżej 1 min',
    waitUnknown: 'czas oczekiwania nieznany',
    unknown: 'nieznany',
    reasons: {
      closed_today: 'Dziś nieczynne',
      not_yet_open: 'Jeszcze nieczynne',
      too_late: 'Na dziś za późno – nie zdążymy obsłużyć',
      daily_cap_reached: 'Dzienny limit biletów wyczerpany',
      stopped_by_manager: 'Wydawanie biletów wstrzymane',
      unknown: 'Teraz nie wydajemy biletów',
    },
    unavailable: 'Niedostępne',
    docsTitle: 'Potrzebne dokumenty',
    docsHint: 'Przygotuj je przed podejściem do stanowiska.',
    take: 'Pobierz bilet',
    priorityAsk: 'Przysługuje mi obsługa poza kolejką',
    back: 'Wróć',
    priorityTitle: 'Obsługa poza kolejką',
    priorityText:
      'Poza kolejką obsługujemy osoby wymienione poniżej. Wybierz, co Ciebie dotyczy, a od razu dostaniesz bilet. ' +
      'Nie trzeba niczego okazywać. Tej informacji nie drukujemy i nie pokazujemy na ekranach.',
    priorityNone: 'Nic z tego mnie nie dotyczy – zwykły bilet',
    issuing: 'Wydajemy bilet…',
    yourNumber: 'Twój numer',
    takeTicket: 'Proszę wziąć bilet z drukarki.',
    printing: 'Drukujemy bilet…',
    printFailed: 'Nie udało się wydrukować biletu. Zapamiętaj swój numer albo zeskanuj kod telefonem.',
    qrCaption: 'Zeskanuj kod, aby śledzić kolejkę w telefonie.',
    qrAlt: 'Kod QR z odnośnikiem do Twojego biletu w telefonie',
    ahead: (n) => `Osób przed Tobą: ${n}`,
    estimated: (w) => `Przewidywany czas oczekiwania: ${w}`,
    done: 'Gotowe',
    notIssued: 'Nie można teraz pobrać biletu w tej sprawie. Wybierz inną sprawę albo zapytaj w punkcie informacyjnym.',
    offlineTitle: 'Biletomat chwilowo nie działa',
    offlineText: 'Nie ma połączenia z systemem kolejkowym. Prosimy podejść do punktu informacyjnego.',
    offlineRetry: 'Próbujemy ponownie się połączyć…',
    moreTimeTitle: 'Potrzebujesz więcej czasu?',
    moreTimeYes: 'Tak, potrzebuję więcej czasu',
    moreTimeNo: 'Nie, zacznij od nowa',
    loading: 'Łączenie z systemem kolejkowym…',
    pairingTitle: 'Ten biletomat nie jest jeszcze zarejestrowany',
    pairingText: (code) => `Kod rejestracji: ${code}. Kierownik zatwierdza go w panelu urządzeń.`,
    // The phone page.
    phoneTitle: 'Twój bilet',
    stateWaiting: 'Czekasz w kolejce.',
    stateCalled: 'Zapraszamy! Podejdź do stanowiska:',
    stateServing: 'Trwa obsługa przy stanowisku:',
    stateDone: 'Sprawa zakończona. Dziękujemy!',
    stateNoShow: 'Po wywołaniu nikt nie podszedł do stanowiska. Zapytaj w punkcie informacyjnym.',
    stateParked: 'Twój bilet jest wstrzymany – numer zostanie wywołany ponownie.',
    stateCancelled: 'Ten bilet został anulowany.',
    updated: (t) => `Stan z godziny ${t}`,
    phoneOffline: 'Brak połączenia – próbujemy ponownie…',
    invalidLink: 'Ten odnośnik jest nieważny albo bilet nie jest z dzisiaj.',
  },
  uk: {
    title: 'Автомат талонів',
    languages: 'Мова',
    chooseCase: 'З якого питання ви прийшли?',
    chooseHint: 'Торкніться кнопки з вашим питанням.',
    waitingNone: 'Ніхто не чекає',
    waiting: (n) => `Чекає: ${n} ${plural('uk', n, ['особа', 'особи', 'осіб'])}`,
    waitAbout: (m) => `близько ${m} хв`,
    waitUnderMinute: 'менше 1 хв',
    waitUnknown: 'час очікування невідомий',
    unknown: 'невідомий',
    reasons: {
      closed_today: 'Сьогодні не працює',
      not_yet_open: 'Ще не працює',
      too_late: 'Сьогодні вже запізно – не встигнемо обслужити',
      daily_cap_reached: 'Денний ліміт талонів вичерпано',
      stopped_by_manager: 'Видачу талонів призупинено',
      unknown: 'Зараз талони не видаються',
    },
    unavailable: 'Недоступно',
    docsTitle: 'Потрібні документи',
    docsHint: 'Підготуйте їх, перш ніж підійти до вікна.',
    take: 'Отримати талон',
    priorityAsk: 'Я маю право на обслуговування поза чергою',
    back: 'Назад',
    priorityTitle: 'Обслуговування поза чергою',
    priorityText:
      'Поза чергою ми обслуговуємо осіб, перелічених нижче. Виберіть, що стосується вас, і ви одразу отримаєте талон. ' +
      'Нічого показувати не потрібно. Ця інформація не друкується і не показується на екранах.',
    priorityNone: 'Мене це не стосується – звичайний талон',
    issuing: 'Видаємо талон…',
    yourNumber: 'Ваш номер',
    takeTicket: 'Будь ласка, візьміть талон із принтера.',
    printing: 'Друкуємо талон…',
    printFailed: 'Не вдалося надрукувати талон. Запам’ятайте свій номер або відскануйте код телефоном.',
    qrCaption: 'Відскануйте код, щоб стежити за чергою в телефоні.',
    qrAlt: 'QR-код із посиланням на ваш талон у телефоні',
    ahead: (n) => `Осіб перед вами: ${n}`,
    estimated: (w) => `Орієнтовний час очікування: ${w}`,
    done: 'Готово',
    notIssued: 'Зараз неможливо отримати талон з цього питання. Виберіть інше питання або зверніться до інформаційного пункту.',
    offlineTitle: 'Автомат тимчасово не працює',
    offlineText: 'Немає зв’язку із системою черги. Будь ласка, зверніться до інформаційного пункту.',
    offlineRetry: 'Намагаємося знову підключитися…',
    moreTimeTitle: 'Вам потрібно більше часу?',
    moreTimeYes: 'Так, мені потрібно більше часу',
    moreTimeNo: 'Ні, почати спочатку',
    loading: 'Підключення до системи черги…',
    pairingTitle: 'Цей автомат ще не зареєстровано',
    pairingText: (code) => `Код реєстрації: ${code}. Керівник підтверджує його на панелі пристроїв.`,
    phoneTitle: 'Ваш талон',
    stateWaiting: 'Ви в черзі.',
    stateCalled: 'Запрошуємо! Підійдіть до вікна:',
    stateServing: 'Вас обслуговують у вікні:',
    stateDone: 'Обслуговування завершено. Дякуємо!',
    stateNoShow: 'Ви не підійшли після виклику. Зверніться до інформаційного пункту.',
    stateParked: 'Ваш талон відкладено – вас викличуть знову.',
    stateCancelled: 'Цей талон скасовано.',
    updated: (t) => `Стан на ${t}`,
    phoneOffline: 'Немає з’єднання – пробуємо знову…',
    invalidLink: 'Це посилання недійсне, або талон не сьогоднішній.',
  },
  en: {
    title: 'Ticket machine',
    languages: 'Language',
    chooseCase: 'What is your visit about?',
    chooseHint: 'Touch the button for your matter.',
    waitingNone: 'Nobody waiting',
    waiting: (n) => `${n} ${n === 1 ? 'person' : 'people'} waiting`,
    waitAbout: (m) => `about ${m} min`,
    waitUnderMinute: 'under 1 min',
    waitUnknown: 'waiting time not known',
    unknown: 'not known yet',
    reasons: {
      closed_today: 'Closed today',
      not_yet_open: 'Not open yet',
      too_late: 'Too late to be served today',
      daily_cap_reached: 'Daily ticket limit reached',
      stopped_by_manager: 'Tickets paused',
      unknown: 'No tickets right now',
    },
    unavailable: 'Not available',
    docsTitle: 'Documents to bring',
    docsHint: 'Have them ready before you go to the counter.',
    take: 'Take a ticket',
    priorityAsk: 'I am entitled to priority service',
    back: 'Back',
    priorityTitle: 'Priority service',
    priorityText:
      'We serve the people listed below out of turn. Choose what applies to you and you will get your ticket at once. ' +
      'You do not need to show anything. This is not printed or shown on any screen.',
    priorityNone: 'None of these – a regular ticket',
    issuing: 'Issuing your ticket…',
    yourNumber: 'Your number',
    takeTicket: 'Please take your ticket from the printer.',
    printing: 'Printing your ticket…',
    printFailed: 'Your ticket could not be printed. Please remember your number, or scan the code with your phone.',
    qrCaption: 'Scan the code to follow the queue on your phone.',
    qrAlt: 'QR code linking to your ticket on your phone',
    ahead: (n) => `People ahead of you: ${n}`,
    estimated: (w) => `Estimated waiting time: ${w}`,
    done: 'Done',
    notIssued: 'A ticket for this matter cannot be taken right now. Choose another matter or ask at the information desk.',
    offlineTitle: 'The ticket machine is not working right now',
    offlineText: 'It cannot reach the queue system. Please ask at the information desk.',
    offlineRetry: 'Trying to reconnect…',
    moreTimeTitle: 'Do you need more time?',
    moreTimeYes: 'Yes, I need more time',
    moreTimeNo: 'No, start again',
    loading: 'Connecting to the queue system…',
    pairingTitle: 'This ticket machine is not registered yet',
    pairingText: (code) => `Registration code: ${code}. A manager approves it in the devices panel.`,
    phoneTitle: 'Your ticket',
    stateWaiting: 'You are in the queue.',
    stateCalled: 'It is your turn! Please go to:',
    stateServing: 'You are being served at:',
    stateDone: 'Your visit is finished. Thank you!',
    stateNoShow: 'You did not come when called. Please ask at the information desk.',
    stateParked: 'Your ticket is on hold – you will be called again.',
    stateCancelled: 'This ticket was cancelled.',
    updated: (t) => `As of ${t}`,
    phoneOffline: 'No connection – trying again…',
    invalidLink: 'This link is not valid, or the ticket is not from today.',
  },
};

/** The words of a language (Polish for anything unknown). */
export function words(lang) {
  return T[lang] || T.pl;
}

/** One of three forms by the language's plural rule: [one, few, many]. */
export function plural(lang, n, [one, few, many]) {
  const rule = new Intl.PluralRules(lang).select(n);
  if (rule === 'one') return one;
  if (rule === 'few') return few;
  return many;
}

/**
 * A wait in minutes as words: "ok. 25 min", "poniżej 1 min", or unknown for `null` ("czas
 * oczekiwania nieznany", or just "nieznany" after a label, with `{ short: true }`).
 */
export function waitWords(lang, minutes, { short = false } = {}) {
  const w = words(lang);
  if (minutes === null || minutes === undefined) return short ? w.unknown : w.waitUnknown;
  if (minutes < 1) return w.waitUnderMinute;
  return w.waitAbout(minutes);
}
