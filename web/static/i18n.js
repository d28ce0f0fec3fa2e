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
    signIn: 'Sign in', signInPasskey: 'Sign in with a passkey', or: 'or', email: 'E-mail', password: 'Password',
    useCode: 'Email me a code instead', usePassword: 'Use my password', sendCode: 'Send the code', code: 'Code from the e-mail',
    codeSent: 'If an account has this e-mail, a code is on its way. It is valid for 10 minutes.',
    joinLink: 'I am a resident: join with my account', joinTitle: 'Join as a resident', joinButton: 'Join',
    joinHint: 'Enter your personal account number and the access code from your receipt or the management office.',
    accessCode: 'Access code', yourName: 'Your name', newPassword: 'New password (10 characters or more)',
    wrongPassword: 'The e-mail or the password is wrong.', wrongCode: 'The code is wrong or has expired.',
    tooMany: 'Too many attempts. Try again in {s} s.', notFound: 'Not found, or not yours to see.', forbidden: 'Your role does not allow this.',
    passkeyCancelled: 'The passkey request was cancelled.', signOut: 'Sign out', security: 'Security', passkeys: 'Passkeys',
    passkey: 'Passkey', name: 'Name', added: 'Added', lastUsed: 'Last used', rename: 'Rename', remove: 'Remove',
    noPasskeys: 'No passkeys yet: add one to sign in without a password.', passkeyName: 'Name, e.g. Work laptop', addPasskey: 'Add a passkey',
    sessions: 'Where you are signed in', method: 'How', device: 'Device', lastSeen: 'Last seen', thisDevice: 'this device',
    logoutEverywhere: 'Sign out everywhere', myAccounts: 'My accounts',
    staff: 'Staff', roles: 'Roles', addStaff: 'Add a staff member', firstPassword: 'First password (optional, 10+ characters)',
    housesHint: 'Houses: none selected means every house.', auditLog: 'Audit log', allObjects: 'All objects', operation: 'Operation',
    when: 'When', who: 'Who', object: 'Object', changes: 'Changes',
    r_ADMIN: 'admin', r_ACCOUNTANT: 'accountant', r_DISPATCHER: 'dispatcher', r_ENGINEER: 'engineer', r_MANAGER: 'manager', r_CONTRACTOR: 'contractor',
    residentAccess: 'Residents\' access', invite: 'Invite by e-mail', issueCode: 'Issue an access code',
    codeIssued: 'Access code {code}: hand it to the resident; valid {days} days, once.', invited: 'Invitation sent to {email}.',
    m_password: 'password', m_passkey: 'passkey', m_email_code: 'e-mail code', m_join: 'joined',
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
    signIn: 'Войти', signInPasskey: 'Войти с ключом доступа', or: 'или', email: 'Эл. почта', password: 'Пароль',
    useCode: 'Прислать код на почту', usePassword: 'Войти по паролю', sendCode: 'Прислать код', code: 'Код из письма',
    codeSent: 'Если такой адрес есть у нас, код уже в пути. Он действует 10 минут.',
    joinLink: 'Я житель: подключиться по лицевому счёту', joinTitle: 'Подключение жителя', joinButton: 'Подключиться',
    joinHint: 'Введите номер лицевого счёта и код доступа из квитанции или из управляющей компании.',
    accessCode: 'Код доступа', yourName: 'Ваше имя', newPassword: 'Новый пароль (не короче 10 символов)',
    wrongPassword: 'Неверная почта или пароль.', wrongCode: 'Код неверен или устарел.',
    tooMany: 'Слишком много попыток. Повторите через {s} с.', notFound: 'Не найдено или недоступно вам.', forbidden: 'Ваша роль этого не позволяет.',
    passkeyCancelled: 'Запрос ключа доступа отменён.', signOut: 'Выйти', security: 'Безопасность', passkeys: 'Ключи доступа',
    passkey: 'Ключ доступа', name: 'Название', added: 'Добавлен', lastUsed: 'Последний вход', rename: 'Переименовать', remove: 'Удалить',
    noPasskeys: 'Ключей пока нет: добавьте ключ, чтобы входить без пароля.', passkeyName: 'Название, например «Рабочий ноутбук»', addPasskey: 'Добавить ключ доступа',
    sessions: 'Где выполнен вход', method: 'Способ', device: 'Устройство', lastSeen: 'Активность', thisDevice: 'это устройство',
    logoutEverywhere: 'Выйти на всех устройствах', myAccounts: 'Мои лицевые счета',
    staff: 'Сотрудники', roles: 'Роли', addStaff: 'Добавить сотрудника', firstPassword: 'Первый пароль (необязательно, от 10 символов)',
    housesHint: 'Дома: если ни один не выбран — все дома.', auditLog: 'Журнал действий', allObjects: 'Все объекты', operation: 'Операция',
    when: 'Когда', who: 'Кто', object: 'Объект', changes: 'Изменения',
    r_ADMIN: 'администратор', r_ACCOUNTANT: 'бухгалтер', r_DISPATCHER: 'диспетчер', r_ENGINEER: 'инженер', r_MANAGER: 'руководитель', r_CONTRACTOR: 'подрядчик',
    residentAccess: 'Доступ жителей', invite: 'Пригласить по почте', issueCode: 'Выдать код доступа',
    codeIssued: 'Код доступа {code}: передайте его жителю; действует {days} дней, один раз.', invited: 'Приглашение отправлено на {email}.',
    m_password: 'пароль', m_passkey: 'ключ доступа', m_email_code: 'код по почте', m_join: 'подключение',
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
    signIn: 'Entrar', signInPasskey: 'Entrar com chave de acesso', or: 'ou', email: 'E-mail', password: 'Senha',
    useCode: 'Receber um código por e-mail', usePassword: 'Usar minha senha', sendCode: 'Enviar código', code: 'Código do e-mail',
    codeSent: 'Se houver uma conta com este e-mail, o código já foi enviado. Ele vale por 10 minutos.',
    joinLink: 'Sou morador: entrar com minha conta', joinTitle: 'Cadastro de morador', joinButton: 'Cadastrar',
    joinHint: 'Informe o número da sua conta e o código de acesso do boleto ou da administradora.',
    accessCode: 'Código de acesso', yourName: 'Seu nome', newPassword: 'Nova senha (10 caracteres ou mais)',
    wrongPassword: 'E-mail ou senha incorretos.', wrongCode: 'Código incorreto ou vencido.',
    tooMany: 'Muitas tentativas. Tente de novo em {s} s.', notFound: 'Não encontrado ou sem acesso.', forbidden: 'Seu papel não permite isso.',
    passkeyCancelled: 'A solicitação da chave de acesso foi cancelada.', signOut: 'Sair', security: 'Segurança', passkeys: 'Chaves de acesso',
    passkey: 'Chave de acesso', name: 'Nome', added: 'Adicionada', lastUsed: 'Último uso', rename: 'Renomear', remove: 'Remover',
    noPasskeys: 'Nenhuma chave ainda: adicione uma para entrar sem senha.', passkeyName: 'Nome, p. ex. Notebook do trabalho', addPasskey: 'Adicionar chave de acesso',
    sessions: 'Onde você está conectado', method: 'Como', device: 'Dispositivo', lastSeen: 'Última atividade', thisDevice: 'este dispositivo',
    logoutEverywhere: 'Sair de todos os dispositivos', myAccounts: 'Minhas contas',
    staff: 'Equipe', roles: 'Papéis', addStaff: 'Adicionar membro da equipe', firstPassword: 'Primeira senha (opcional, 10+ caracteres)',
    housesHint: 'Edifícios: nenhum selecionado significa todos.', auditLog: 'Registro de auditoria', allObjects: 'Todos os objetos', operation: 'Operação',
    when: 'Quando', who: 'Quem', object: 'Objeto', changes: 'Alterações',
    r_ADMIN: 'administrador', r_ACCOUNTANT: 'contador', r_DISPATCHER: 'despachante', r_ENGINEER: 'engenheiro', r_MANAGER: 'gestor', r_CONTRACTOR: 'prestador',
    residentAccess: 'Acesso dos moradores', invite: 'Convidar por e-mail', issueCode: 'Gerar código de acesso',
    codeIssued: 'Código de acesso {code}: entregue ao morador; vale {days} dias, uma vez.', invited: 'Convite enviado para {email}.',
    m_password: 'senha', m_passkey: 'chave de acesso', m_email_code: 'código por e-mail', m_join: 'cadastro',
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
