"""nomaflow_runner: runs the callable of one Nomaflow python step.

Started by nomaflow-worker (never by hand) as

    /usr/bin/python3 -I -B nomaflow_runner.py

already under the step's seccomp policy (exec.policy), with

    fd 0  a read-only file holding the step as one JSON object:
          callable, kwargs, params, run_params, outputs, pools, run_id,
          job_id, step, attempt, plugins_dir
    fd 1  stdout pipe, fd 2 stderr pipe: what C code or subprocesses write
          at the descriptor level; the worker relays it as log lines
    fd 3  the channel: JSON lines, one record each, in the order they
          happened:
            {"t": "line", "s": "stdout"|"stderr", "l": TEXT}
            {"t": "log", "v": "error"|"warn"|"info"|"debug", "l": TEXT}
            {"t": "ready"}                  callable imported, about to run
            {"t": "result", "value": null | int | object}
            {"t": "error", "error": TEXT}   the step failed; traceback logged

sys.stdout, sys.stderr and the logging root handler all write to the
channel, so print(), sys.stderr.write() and logging keep their relative
order in the run's log (one writer, one lock, one pipe).  Exactly one
result or error record is the last thing written; then the process leaves
with os._exit(), so threads the callable left behind cannot hold it.

SIGTERM (timeout or cancel) only sets the flag ctx.is_cancelled() reads:
the worker kills the interpreter when its grace period ends.
"""

import faulthandler
import importlib
import io
import json
import logging
import os
import signal
import sys
import threading
import traceback

CHANNEL_FD = 3
# Longest line sent in one record; the worker splits at 16 KiB anyway.
MAX_LINE = 64 * 1024

_cancelled = False


def _on_term(signum, frame):
    global _cancelled
    _cancelled = True


class Channel:
    """The ordered record stream to the worker (fd 3)."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()
        # os.system() and friends must not inherit the channel.
        os.set_inheritable(fd, False)

    def send(self, rec):
        data = json.dumps(rec, ensure_ascii=False, allow_nan=False)
        # Lone surrogates (undecodable bytes) cannot be UTF-8: replace.
        data = data.encode("utf-8", "replace") + b"\n"
        with self.lock:
            view = memoryview(data)
            while view:
                try:
                    n = os.write(self.fd, view)
                except InterruptedError:
                    continue
                view = view[n:]


class LineStream(io.TextIOBase):
    """sys.stdout / sys.stderr: complete lines become records."""

    def __init__(self, channel, name):
        super().__init__()
        self.channel = channel
        self.name = name
        self.buf = ""

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "replace"

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" %
                            type(s).__name__)
        self.buf += s
        while True:
            nl = self.buf.find("\n")
            if nl < 0:
                break
            line, self.buf = self.buf[:nl], self.buf[nl + 1:]
            self._emit(line)
        while len(self.buf) > MAX_LINE:
            self._emit(self.buf[:MAX_LINE])
            self.buf = self.buf[MAX_LINE:]
        return len(s)

    def _emit(self, line):
        if line.endswith("\r"):
            line = line[:-1]
        self.channel.send({"t": "line", "s": self.name, "l": line})

    def flush(self):
        pass

    def finish(self):
        if self.buf:
            self._emit(self.buf)
            self.buf = ""


class ChannelHandler(logging.Handler):
    """Every logging record becomes one record, with its level."""

    LEVELS = ((logging.ERROR, "error"), (logging.WARNING, "warn"),
              (logging.INFO, "info"))

    def __init__(self, channel, own_prefix):
        super().__init__()
        self.channel = channel
        self.own_prefix = own_prefix

    def emit(self, record):
        try:
            text = self.format(record)
            if not record.name.startswith(self.own_prefix):
                text = "%s: %s" % (record.name, text)
            level = "debug"
            for no, name in self.LEVELS:
                if record.levelno >= no:
                    level = name
                    break
            self.channel.send({"t": "log", "v": level, "l": text})
        except Exception:
            self.handleError(record)


class Context:
    """What a callable that takes `ctx` receives."""

    def __init__(self, step, logger):
        self.run_id = step.get("run_id")
        self.job_id = step.get("job_id")
        self.step = step.get("step")
        self.attempt = step.get("attempt")
        self.params = dict(step.get("params") or {})
        self.outputs = dict(step.get("outputs") or {})
        self.pools = dict(step.get("pools") or {})
        self.logger = logger

    def is_cancelled(self):
        """True once the step is being stopped (timeout or cancel)."""
        return _cancelled

    def __repr__(self):
        return "<nomaflow ctx run %s job %s step %s>" % (
            self.run_id, self.job_id, self.step)


class StepFailure(Exception):
    pass


def _load(spec, plugins_dir):
    modname, _, funcname = spec.partition(":")
    try:
        obj = importlib.import_module(modname)
    except ModuleNotFoundError as e:
        if e.name is not None and modname.startswith(e.name):
            raise StepFailure("cannot import %s: no module named %r in "
                              "plugins_dir %s (or the system's site "
                              "packages)" % (modname, e.name, plugins_dir))
        raise
    for part in funcname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise StepFailure("module %s (%s) has no attribute %r" % (
                modname, getattr(sys.modules[modname], "__file__", "?"),
                funcname))
    if not callable(obj):
        raise StepFailure("%s is a %s, not a function" % (
            spec, type(obj).__name__))
    return obj


def _signature(func):
    """(names it takes by keyword, required names, takes **kwargs), or None.

    Read from the code object rather than with inspect, whose import alone
    costs more than the rest of the runner's start-up.
    """
    f, skip = func, 0
    if getattr(f, "__self__", None) is not None and hasattr(f, "__func__"):
        f, skip = f.__func__, 1     # bound method: self is given
    code = getattr(f, "__code__", None)
    if code is None:
        return None
    npos, nkw = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames[:npos + nkw]
    defaults = f.__defaults__ or ()
    kwdefaults = f.__kwdefaults__ or {}
    keyword = set(names[max(code.co_posonlyargcount, skip):])
    required = [n for n in names[skip:npos - len(defaults)]]
    required += [n for n in names[npos:] if n not in kwdefaults]
    return keyword, required, bool(code.co_flags & 0x08)


def _arguments(func, spec, merged, ctx):
    """The keyword arguments func takes out of merged (and ctx)."""
    sig = _signature(func)
    if sig is None:
        args = dict(merged)
        args.pop("ctx", None)
        return args
    keyword, required, takes_all = sig
    args = {}
    for name, value in merged.items():
        if name != "ctx" and (takes_all or name in keyword):
            args[name] = value
    if "ctx" in keyword:
        args["ctx"] = ctx
    missing = [n for n in required if n not in args]
    if missing:
        raise StepFailure("%s needs %s, which neither the step's kwargs nor "
                          "the run's params provide (known: %s)" % (
                              spec, ", ".join(missing),
                              ", ".join(sorted(merged)) or "none"))
    return args


def _result_value(spec, value):
    if value is None:
        return None
    if isinstance(value, bool):
        raise StepFailure("%s returned bool; return None, an int (rows "
                          "affected) or a dict (the step's output)" % spec)
    if isinstance(value, int):
        if not -2**63 <= value < 2**63:
            raise StepFailure("%s returned %d rows affected, beyond a "
                              "64-bit integer" % (spec, value))
        return value
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise StepFailure("%s returned a dict with a %s key (%r); "
                                  "output keys must be strings" % (
                                      spec, type(k).__name__, k))
        try:
            # Check now: a failure must name the callable, not the runner.
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise StepFailure("%s returned a dict that is not JSON: %s" % (
                spec, e))
        return value
    raise StepFailure("%s returned %s; return None, an int (rows affected) "
                      "or a dict (the step's output)" % (
                          spec, type(value).__qualname__))


def _log_traceback(chan, exc):
    tb = exc.__traceback__
    # Drop the runner's own frames: the trace starts in the plugin.
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    for line in text.rstrip("\n").split("\n"):
        chan.send({"t": "log", "v": "error", "l": line})


def main():
    signal.signal(signal.SIGTERM, _on_term)
    # A crash in C code prints the Python stack on the stderr pipe.
    faulthandler.enable(file=sys.__stderr__)
    chan = Channel(CHANNEL_FD)
    out = LineStream(chan, "stdout")
    err = LineStream(chan, "stderr")

    def finish(rec, code):
        out.finish()
        err.finish()
        chan.send(rec)
        os._exit(code)

    try:
        step = json.loads(sys.stdin.buffer.read())
    except ValueError as e:
        finish({"t": "error", "error": "bad step description on stdin: "
                "%s" % e}, 1)
    spec = step["callable"]
    plugins_dir = step.get("plugins_dir") or ""

    sys.stdout = out
    sys.stderr = err
    prefix = "nomaflow."
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = ChannelHandler(chan, prefix)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logger = logging.getLogger("%s%s.%s" % (prefix, step.get("job_id"),
                                              step.get("step")))
    if plugins_dir:
        sys.path.insert(0, plugins_dir)

    # job params < preset < kwargs < run params.  "params" has them all
    # but kwargs, run values already converted to the job param's type:
    # kwargs fill in only what the run did not give.
    merged = dict(step.get("params") or {})
    given = step.get("run_params") or {}
    for name, value in (step.get("kwargs") or {}).items():
        if name not in given:
            merged[name] = value
    ctx = Context(step, logger)
    ctx.params = merged

    try:
        func = _load(spec, plugins_dir)
        args = _arguments(func, spec, merged, ctx)
        chan.send({"t": "ready"})
        value = _result_value(spec, func(**args))
    except StepFailure as e:
        finish({"t": "error", "error": str(e)}, 1)
    except SystemExit as e:
        finish({"t": "error", "error": "%s called sys.exit(%r)" % (
            spec, e.code)}, 1)
    except BaseException as e:
        _log_traceback(chan, e)
        what = "".join(traceback.format_exception_only(type(e), e)).strip()
        finish({"t": "error", "error": "%s raised %s" % (
            spec, what.split("\n")[-1])}, 1)
    finish({"t": "result", "value": value}, 0)


if __name__ == "__main__":
    main()
