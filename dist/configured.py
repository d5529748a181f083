"""The database identities the app CONFIGURES, whether or not this run exercises them (rls-role).

Called by bootstrap.py once the app and its task modules are imported (Django is then set up by
Celery's own fixup). connections.py records the connections the worker really opens; this reads
what it *could* open: Django's ``settings.DATABASES`` (every alias), SQLAlchemy engines created
at import (tracked by connections.py's ``Engine.__init__`` hook, with the line that created
them), DSN-shaped values of the Celery app's conf and of the Django settings, and DSN-shaped
values of the environment the worker inherited. A role configured there and never used during
the run is still a credential the worker's code holds, which is why the gate judges it.

Written as JSON lines (role, how the role was found, host, port, dbname, application_name,
service, where) to the file the action names. Never the password, never a DSN: each value is
parsed here and only those fields leave. Bounded: at most MAX_ENTRIES lines, MAX_VALUES values
looked at, FIELD_CHARS per field. Nothing here may break the boot: everything is wrapped.
"""
import json
import os
import re
import sys
import warnings

MAX_ENTRIES = 200
MAX_VALUES = 5000
FIELD_CHARS = 200
OWN_ENV_PREFIX = 'CELERY_FOUNDATION_GATES_'
_URL_SCHEMES = ('postgres', 'postgresql', 'pgmq')
_CELERY_PREFIXES = ('sqla', 'sqlalchemy', 'db')
_LIBPQ_USER = re.compile(r'(^|\s)user\s*=')
# A libpq string without user= connects as PGUSER or the OS user (a job-wide PGUSER=postgres is
# common in CI): one naming a server, database or service is a DSN too, if every key is libpq's.
_LIBPQ_SERVER = re.compile(r'(^|\s)(host|hostaddr|dbname|service)\s*=')
_LIBPQ_KEYS = frozenset((
    'host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'passfile', 'require_auth', 'channel_binding',
    'connect_timeout', 'client_encoding', 'options', 'application_name', 'fallback_application_name',
    'keepalives', 'keepalives_idle', 'keepalives_interval', 'keepalives_count', 'tcp_user_timeout',
    'replication', 'gssencmode', 'sslmode', 'requiressl', 'sslnegotiation', 'sslcompression', 'sslcert',
    'sslkey', 'sslpassword', 'sslcertmode', 'sslrootcert', 'sslcrl', 'sslcrldir', 'sslsni', 'requirepeer',
    'ssl_min_protocol_version', 'ssl_max_protocol_version', 'krbsrvname', 'gsslib', 'gssdelegation',
    'service', 'target_session_attrs', 'load_balance_hosts', 'min_protocol_version', 'max_protocol_version'))
_LIBPQ_PAIR = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('((?:[^'\\]|\\.)*)'|\S*)")
# A key shown in `where` (settings name, env name, dict key): anything else is shown as […],
# so a dict keyed by a DSN cannot put its password into the record.
_SAFE_KEY = re.compile(r'^[A-Za-z0-9_.\-]{1,64}$')


def write(app, path, created_engines=None):
    """Append the configured identities to ``path`` (one JSON line each); never raises.
    ``created_engines`` is connections.py's (it tracked the engines created at import)."""
    if not path:
        return
    out = []
    try:
        engines = created_engines() if created_engines else ()
    except Exception:
        engines = ()
    for collect in (lambda: _django(out), lambda: _engines(engines, out), lambda: _conf(app, out),
                    lambda: _environment(out)):
        try:
            # A deprecated setting read here must not print a warning: stderr is the worker's.
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                collect()
        except Exception:
            pass
    lines = ''.join(json.dumps(_clipped(e), separators=(',', ':')) + '\n' for e in out[:MAX_ENTRIES])
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o600)
        try:
            os.write(fd, lines.encode('utf-8', 'replace'))
        finally:
            os.close(fd)
    except Exception:
        pass


def _clipped(entry):
    return {k: (v[:FIELD_CHARS] if isinstance(v, str) else v) for k, v in entry.items()
            if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) or v is None}


def _key(key):
    return key if isinstance(key, str) and _SAFE_KEY.match(key) else '[…]'


def _add(out, where, ident):
    if ident is not None and len(out) < MAX_ENTRIES:
        ident['where'] = where
        out.append(ident)


def _default_role():
    """What libpq uses without a user: PGUSER, then the OS user the worker runs as."""
    if os.environ.get('PGUSER'):
        return os.environ['PGUSER'], 'PGUSER'
    try:
        import pwd
        return pwd.getpwuid(os.geteuid()).pw_name, 'os user'
    except Exception:
        return None, 'unspecified'


def _identity(user, host, port, dbname, application_name=None, service=None):
    """The record's fields; a missing user becomes libpq's default (or "unspecified" with a service)."""
    # A user holding ':' is a userinfo encoded whole (quote(user + ':' + password) decodes to it,
    # in a URL or an engine's URL): only the part before the ':' may leave.
    user = str(user).split(':', 1)[0] if user else None
    if user:
        role, role_from = user, 'dsn'
    elif service:  # the service file may name a user: not read here
        role, role_from = None, 'unspecified'
    else:
        role, role_from = _default_role()
    try:
        port = int(port) if port not in (None, '') else None
    except (TypeError, ValueError):
        port = None
    return {'role': role, 'role_from': role_from, 'host': str(host) if host else None, 'port': port,
            'dbname': str(dbname) if dbname else None,
            'application_name': str(application_name) if application_name else None,
            'service': str(service) if service else None}


def parse_dsn(value):
    """A PostgreSQL DSN (URL or libpq key=value with user=) → identity fields, else None."""
    if not isinstance(value, str) or len(value) > 4096:
        return None
    text = value.strip()
    if '://' in text:
        return _parse_url(text)
    if _LIBPQ_USER.search(text) or _LIBPQ_SERVER.search(text):
        return _parse_libpq(text)
    return None


def _parse_url(text):
    from urllib.parse import parse_qs, unquote, urlsplit
    scheme = text.split('://', 1)[0].lower()
    if '+' in scheme and scheme.split('+', 1)[0] in _CELERY_PREFIXES:
        scheme = scheme.split('+', 1)[1]
    if scheme.split('+', 1)[0] not in _URL_SCHEMES:
        return None
    # The userinfo runs to the LAST '@' (SQLAlchemy's URL takes a password with an unencoded
    # '/', '?' or '#', which urlsplit would cut into the host, path or query and so into the
    # record); only the user before its first ':' is kept. A "user" holding '/' is a path: then
    # there is no userinfo that far (SQLAlchemy and libpq agree): the '@' in the host part is.
    rest = text.split('://', 1)[1]
    at = rest.rfind('@')
    if at >= 0 and '/' not in rest[:at].split(':', 1)[0]:
        userinfo, text = rest[:at], scheme + '://' + rest[at + 1:]
    else:
        userinfo = None
    parts = urlsplit(text)
    netloc = parts.netloc.rsplit('@', 1)
    if userinfo is None:
        userinfo = netloc[0] if len(netloc) == 2 else ''
    hostport = netloc[-1]
    user = unquote(userinfo.split(':', 1)[0]) if userinfo else None
    host, port = hostport, None
    if ',' not in hostport:  # one host: split its port (IPv6 in brackets)
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            host, port = hostport, None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return _identity(query.get('user') or user, query.get('host') or unquote(host or '') or None,
                     query.get('port') or port, query.get('dbname') or unquote(parts.path.lstrip('/')) or None,
                     query.get('application_name'), query.get('service'))


def _parse_libpq(text):
    """``key=value`` pairs (values in single quotes may hold spaces), and nothing else: a sentence
    that merely contains ``user=`` is not a DSN. One pair at a time, so no regex backtracking."""
    pairs, pos = {}, 0
    while pos < len(text):
        m = _LIBPQ_PAIR.match(text, pos)
        if not m or m.end() == pos or (m.end() < len(text) and not text[m.end()].isspace()):
            return None
        quoted = m.group(3) is not None
        pairs[m.group(1).lower()] = re.sub(r'\\(.)', r'\1', m.group(3)) if quoted else m.group(2)
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if 'user' not in pairs and not (set(pairs) <= _LIBPQ_KEYS and set(pairs) & {'host', 'hostaddr', 'dbname', 'service'}):
        return None
    return _identity(pairs.get('user'), pairs.get('host') or pairs.get('hostaddr'), pairs.get('port'),
                     pairs.get('dbname'), pairs.get('application_name'), pairs.get('service'))


def _values(value, where, out, budget, depth=0):
    """DSN-shaped strings in ``value`` and, one level down, in its dicts/lists/tuples."""
    if budget[0] <= 0:
        return
    budget[0] -= 1
    if isinstance(value, str):
        ident = parse_dsn(value)
        if ident is None and depth < 2 and value.lstrip()[:1] in ('{', '[') and len(value) <= 65536:
            # JSON in a variable or setting (DATABASES_JSON='{"default": "postgresql://…"}'): its DSNs count.
            try:
                loaded = json.loads(value)
            except ValueError:
                return
            if isinstance(loaded, (dict, list)):
                _values(loaded, where, out, budget, depth)
            return
        _add(out, where, ident)
    elif depth < 2 and isinstance(value, dict):
        for k, v in list(value.items())[:100]:
            _values(v, '{}[{}]'.format(where, _key(k)), out, budget, depth + 1)
    elif depth < 2 and isinstance(value, (list, tuple)):
        for i, v in enumerate(list(value)[:100]):
            _values(v, '{}[{}]'.format(where, i), out, budget, depth + 1)


def _django(out):
    """Every alias of ``settings.DATABASES`` and the other DSN-shaped settings (Django apps only)."""
    if 'django' not in sys.modules:  # not a Django project: do not import Django for it
        return
    from django.conf import settings
    if not settings.configured and not os.environ.get('DJANGO_SETTINGS_MODULE'):
        return
    databases = getattr(settings, 'DATABASES', None) or {}
    for alias, conf in list(databases.items())[:50]:
        if not isinstance(conf, dict):
            continue
        engine = str(conf.get('ENGINE') or '')
        if 'postgresql' not in engine and 'postgis' not in engine and 'psycopg' not in engine:
            continue
        options = conf.get('OPTIONS') or {}
        options = options if isinstance(options, dict) else {}
        # Django passes USER/NAME/HOST/PORT to the driver over OPTIONS' own user/dbname/…
        _add(out, "DATABASES['{}']".format(_key(alias)), _identity(
            conf.get('USER') or options.get('user'), conf.get('HOST') or options.get('host'),
            conf.get('PORT') or options.get('port'), conf.get('NAME') or options.get('dbname'),
            options.get('application_name'), options.get('service')))
    budget = [MAX_VALUES]
    for name in sorted(n for n in dir(settings) if n.isupper() and not n.startswith('_') and n != 'DATABASES'):
        try:
            _values(getattr(settings, name), 'django settings ' + _key(name), out, budget)
        except Exception:
            pass


def _engines(engines, out):
    """Engines created at import (connections.py's hook), with where: connected or not."""
    for engine, where in list(engines)[:MAX_ENTRIES]:
        url = engine.url
        if not str(url.drivername).startswith('postgresql'):
            continue
        query = dict(url.query)
        _add(out, 'engine created at ' + where, _identity(
            url.username or query.get('user'), url.host, url.port, url.database,
            query.get('application_name')))


def _conf(app, out):
    budget = [MAX_VALUES]
    conf = app.conf
    for key in sorted(k for k in conf.keys() if isinstance(k, str) and k.islower() and not k.startswith('_')):
        try:
            _values(conf.get(key), 'celery conf ' + _key(key), out, budget)
        except Exception:
            pass


def _environment(out):
    budget = [MAX_VALUES]
    for name in sorted(os.environ):
        if name.startswith(OWN_ENV_PREFIX):
            continue
        _values(os.environ[name], 'env ' + _key(name), out, budget)
