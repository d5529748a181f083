"""Which environment variables the worker's code reads (rls-role).

configured.py finds the DSN-shaped values of the environment the worker inherits; many are
there only because CI sets them for the whole job (a migration DSN next to the app's own), and
the app never reads them. rls-role judges the ones the app READ like any configured identity and
only notes the others. This module knows which were read: loaded by bootstrap.py before Celery
and the app are imported, it wraps ``os._Environ.__getitem__`` at class level, which on CPython
3.7+ every read by name goes through: ``os.environ[...]``, ``os.environ.get``, ``os.getenv``,
``in``, ``setdefault``/``pop`` (``_collections_abc`` and ``os`` call ``self[key]``), and
``os.environb``/``os.getenvb`` (the same class). Prefork children fork from this process and
inherit the wrapper; each process appends the names it reads first.

A whole-environment read — ``os.environ.copy()``, ``dict(os.environ)``, ``{**os.environ}``,
``.items()``/``.values()``, ``os.environ | {...}`` — also goes through ``__getitem__``, once per
variable, and so counts as reading every variable: a copy is how an environment is handed on (a
subprocess's ``env=``, a config object) and which of its values the receiver uses cannot be told,
so a DSN in it is judged rather than downgraded to a note. What bypasses the wrapper, and is
therefore not seen: iterating the names only (no value read), ``repr(os.environ)``,
``os.environ._data``/``posix.environ``, C code calling getenv (libpq reading ``PG*``), and a
subprocess started without ``env=`` (it gets the C-level environment). This is a record for the
honest app, like connections.py: code that wants to hide a read can.

One JSON line per variable and process (name, the first caller outside ``os``, pid): names only,
never a value; a name that is not a plain one is not written. Reads made by the action's own
modules (configured.py reading every value) are not the app's and are not recorded. Bounded:
MAX_NAMES_PER_PROCESS names per process, then one ``overflow`` line (the action then counts every
variable as read). Nothing here may break the app: everything is wrapped.
"""
import json
import os
import re
import sys

MAX_NAMES_PER_PROCESS = 500
FIELD_CHARS = 200
_SAFE_NAME = re.compile(r'^[A-Za-z0-9_.\-]{1,64}$')
_OWN_PREFIX = 'celery_foundation_gates_'
# Frames between the reader and __getitem__: Mapping.get/__contains__, os.getenv/copy/setdefault.
_PASS_THROUGH = ('os', '_collections_abc', 'collections.abc')
_state = {'path': None, 'pid': None, 'written': 0, 'seen': set()}


def install(path):
    """Wrap ``os._Environ.__getitem__`` (before the app is imported); records into ``path``."""
    if not path:
        return
    _state['path'] = path
    cls = os._Environ
    original = cls.__getitem__
    if getattr(original, '_cfg_wrapped', False):
        return

    def __getitem__(self, key):
        value = original(self, key)  # an unset name raises KeyError: nothing was read
        try:
            _note(key)
        except Exception:
            pass
        return value

    __getitem__._cfg_wrapped = True
    cls.__getitem__ = __getitem__


def _note(key):
    if isinstance(key, bytes):
        key = key.decode('utf-8', 'replace')
    if not isinstance(key, str) or key in _state['seen'] or not _SAFE_NAME.match(key):
        return
    by = _reader()
    if by is None:  # read by the action's own code: not the app's
        return
    if _state['pid'] != os.getpid():  # a forked child counts its own lines
        _state['pid'], _state['written'] = os.getpid(), 0
    _state['seen'].add(key)
    if not _state['path'] or _state['written'] > MAX_NAMES_PER_PROCESS:
        return
    entry = {'name': key, 'by': by[:FIELD_CHARS], 'pid': os.getpid()}
    if _state['written'] == MAX_NAMES_PER_PROCESS:
        # Names past the bound go unwritten: say so, or the action would take them for unread.
        entry = {'overflow': True, 'pid': os.getpid()}
    line = json.dumps(entry, separators=(',', ':')) + '\n'
    fd = os.open(_state['path'], os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o600)
    try:
        os.write(fd, line.encode('utf-8', 'replace'))
    finally:
        os.close(fd)
    _state['written'] += 1


def _reader():
    """'module:line' of the first caller outside os/_collections_abc; None for our own modules."""
    frame = sys._getframe(3)  # _reader ← _note ← __getitem__ ← caller
    while frame is not None:
        name = frame.f_globals.get('__name__', '') or ''
        if name in _PASS_THROUGH:
            frame = frame.f_back
            continue
        if name.startswith(_OWN_PREFIX):
            return None
        return '{}:{}'.format(name, frame.f_lineno)
    return '?'
