// Every label of the staff dashboard in the three languages of our users.
export const LOCALES = { en: 'English', ru: 'Русский', 'pt-BR': 'Português (Brasil)' };

const messages = {
  en: {
    houses: 'Houses', premises: 'Premises', accounts: 'Accounts', people: 'People',
    search: 'Search: account, name, phone, address, meter…', searching: 'Searching…', noResults: 'Nothing found',
    organisation: 'Organisation', language: 'Language', loadMore: 'Show more', total: 'Total',
    address: 'Address', yearBuilt: 'Built', floors: 'Floors', entrances: 'Entrances', totalArea: 'Total area',
    commonArea: 'Common area', status: 'Status', number: 'Number', kind: 'Kind', entrance: 'Entrance', floor: 'Floor',
    area: 'Area', rooms: 'Rooms', account: 'Account', holder: 'Holder', share: 'Share', residents: 'Registered residents',
    openedOn: 'Opened', closedOn: 'Closed', open: 'Open', closed: 'Closed', categories: 'Privileged categories',
    meters: 'Meters', serial: 'Serial', resource: 'Resource', zones: 'Zones', initialValues: 'Initial values',
    verificationDue: 'Verification due', overdue: 'overdue', occupants: 'Owners and tenants', role: 'Role',
    since: 'Since', until: 'Until', phones: 'Phones', emails: 'E-mails', channel: 'Preferred channel',
    allHouses: 'All houses', back: 'Back', none: '—', commonMeters: 'Common meters', loading: 'Loading…',
    error: 'Something went wrong', noOrganisation: 'No organisation yet. Load the demo with `kvartal demo`.',
    house: 'House', person: 'Person', meter: 'Meter', openAccounts: 'Open accounts only', card: 'Card',
    kind_RESIDENTIAL: 'residential', kind_NON_RESIDENTIAL: 'non-residential', kind_PARKING: 'parking', kind_STORAGE: 'storage',
    res_COLD_WATER: 'cold water', res_HOT_WATER: 'hot water', res_ELECTRICITY: 'electricity', res_HEAT: 'heat', res_GAS: 'gas',
    st_ACTIVE: 'active', st_ARCHIVED: 'archived', st_FAILED: 'failed',
    role_OWNER: 'owner', role_TENANT: 'tenant',
    ch_EMAIL: 'e-mail', ch_SMS: 'SMS', ch_VIBER: 'Viber', ch_POST: 'post', ch_NONE: '—',
    k_ACCOUNT: 'Account', k_PERSON: 'Person', k_PREMISES: 'Premises', k_METER: 'Meter', k_HOUSE: 'House',
    flat: 'No.',
  },
  ru: {
    houses: 'Дома', premises: 'Помещения', accounts: 'Лицевые счета', people: 'Люди',
    search: 'Поиск: лицевой счёт, ФИО, телефон, адрес, счётчик…', searching: 'Ищем…', noResults: 'Ничего не найдено',
    organisation: 'Организация', language: 'Язык', loadMore: 'Показать ещё', total: 'Всего',
    address: 'Адрес', yearBuilt: 'Год постройки', floors: 'Этажей', entrances: 'Подъездов', totalArea: 'Общая площадь',
    commonArea: 'Площадь МОП', status: 'Статус', number: 'Номер', kind: 'Тип', entrance: 'Подъезд', floor: 'Этаж',
    area: 'Площадь', rooms: 'Комнат', account: 'Лицевой счёт', holder: 'Владелец счёта', share: 'Доля', residents: 'Зарегистрировано',
    openedOn: 'Открыт', closedOn: 'Закрыт', open: 'Открыт', closed: 'Закрыт', categories: 'Льготные категории',
    meters: 'Счётчики', serial: 'Заводской номер', resource: 'Ресурс', zones: 'Тарифных зон', initialValues: 'Начальные показания',
    verificationDue: 'Поверка до', overdue: 'просрочена', occupants: 'Собственники и наниматели', role: 'Роль',
    since: 'С', until: 'По', phones: 'Телефоны', emails: 'Эл. почта', channel: 'Канал связи',
    allHouses: 'Все дома', back: 'Назад', none: '—', commonMeters: 'Общедомовые счётчики', loading: 'Загрузка…',
    error: 'Что-то пошло не так', noOrganisation: 'Организаций пока нет. Загрузите демо: `kvartal demo`.',
    house: 'Дом', person: 'Человек', meter: 'Счётчик', openAccounts: 'Только открытые', card: 'Карточка',
    kind_RESIDENTIAL: 'жилое', kind_NON_RESIDENTIAL: 'нежилое', kind_PARKING: 'машиноместо', kind_STORAGE: 'кладовая',
    res_COLD_WATER: 'ХВС', res_HOT_WATER: 'ГВС', res_ELECTRICITY: 'электроэнергия', res_HEAT: 'отопление', res_GAS: 'газ',
    st_ACTIVE: 'действует', st_ARCHIVED: 'в архиве', st_FAILED: 'неисправен',
    role_OWNER: 'собственник', role_TENANT: 'наниматель',
    ch_EMAIL: 'эл. почта', ch_SMS: 'SMS', ch_VIBER: 'Viber', ch_POST: 'почта', ch_NONE: '—',
    k_ACCOUNT: 'Лицевой счёт', k_PERSON: 'Человек', k_PREMISES: 'Помещение', k_METER: 'Счётчик', k_HOUSE: 'Дом',
    flat: '№',
  },
  'pt-BR': {
    houses: 'Edifícios', premises: 'Unidades', accounts: 'Contas', people: 'Pessoas',
    search: 'Buscar: conta, nome, telefone, endereço, medidor…', searching: 'Buscando…', noResults: 'Nada encontrado',
    organisation: 'Organização', language: 'Idioma', loadMore: 'Mostrar mais', total: 'Total',
    address: 'Endereço', yearBuilt: 'Construção', floors: 'Andares', entrances: 'Blocos', totalArea: 'Área total',
    commonArea: 'Área comum', status: 'Situação', number: 'Número', kind: 'Tipo', entrance: 'Bloco', floor: 'Andar',
    area: 'Área', rooms: 'Quartos', account: 'Conta', holder: 'Titular', share: 'Fração', residents: 'Moradores registrados',
    openedOn: 'Aberta em', closedOn: 'Encerrada em', open: 'Ativa', closed: 'Encerrada', categories: 'Categorias de benefício',
    meters: 'Medidores', serial: 'Número de série', resource: 'Recurso', zones: 'Postos tarifários', initialValues: 'Leituras iniciais',
    verificationDue: 'Aferição até', overdue: 'vencida', occupants: 'Proprietários e inquilinos', role: 'Papel',
    since: 'Desde', until: 'Até', phones: 'Telefones', emails: 'E-mails', channel: 'Canal preferido',
    allHouses: 'Todos os edifícios', back: 'Voltar', none: '—', commonMeters: 'Medidores comuns', loading: 'Carregando…',
    error: 'Algo deu errado', noOrganisation: 'Nenhuma organização ainda. Carregue a demonstração: `kvartal demo`.',
    house: 'Edifício', person: 'Pessoa', meter: 'Medidor', openAccounts: 'Só contas ativas', card: 'Ficha',
    kind_RESIDENTIAL: 'residencial', kind_NON_RESIDENTIAL: 'comercial', kind_PARKING: 'vaga de garagem', kind_STORAGE: 'depósito',
    res_COLD_WATER: 'água fria', res_HOT_WATER: 'água quente', res_ELECTRICITY: 'energia elétrica', res_HEAT: 'aquecimento', res_GAS: 'gás',
    st_ACTIVE: 'ativo', st_ARCHIVED: 'arquivado', st_FAILED: 'com defeito',
    role_OWNER: 'proprietário', role_TENANT: 'inquilino',
    ch_EMAIL: 'e-mail', ch_SMS: 'SMS', ch_VIBER: 'Viber', ch_POST: 'correio', ch_NONE: '—',
    k_ACCOUNT: 'Conta', k_PERSON: 'Pessoa', k_PREMISES: 'Unidade', k_METER: 'Medidor', k_HOUSE: 'Edifício',
    flat: 'Nº',
  },
};

export function pickLocale() {
  const saved = localStorage.getItem('kvartal.locale');
  if (saved && messages[saved]) return saved;
  const browser = navigator.language || 'en';
  if (browser.startsWith('ru')) return 'ru';
  if (browser.startsWith('pt')) return 'pt-BR';
  return 'en';
}

export function translator(locale) {
  const dict = messages[locale] || messages.en;
  const t = (key) => dict[key] ?? messages.en[key] ?? key;
  // Exact: decimals arrive as strings and are never turned into binary floats.
  const parts = new Intl.NumberFormat(locale).formatToParts(12345.6);
  const group = parts.find((p) => p.type === 'group')?.value ?? ',';
  const point = parts.find((p) => p.type === 'decimal')?.value ?? '.';
  const decimal = (value) => {
    if (value == null) return '—';
    const [whole, fraction] = String(value).split('.');
    const sign = whole.startsWith('-') ? '-' : '';
    const digits = whole.replace('-', '');
    const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, group);
    return sign + grouped + (fraction ? point + fraction : '');
  };
  const date = (iso) => (iso ? new Intl.DateTimeFormat(locale, { timeZone: 'UTC' }).format(new Date(`${iso}T00:00:00Z`)) : '—');
  return { t, decimal, date, locale };
}
