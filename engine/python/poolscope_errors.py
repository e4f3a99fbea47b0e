"""How a failure is told to the user: its kind, message and hint (what to write instead), and the
frames of the traceback that are the user's own (the runner's are dropped). Used by the runner
(poolscope_runner) for load errors, task exceptions, pickling failures and broken pools."""
import os
import re
import sys
import traceback

import poolscope_worker as pw


def signal_name(number):
    """SIGKILL for 9: from the signal module when a process pool loaded it (multiprocessing does)."""
    signal = sys.modules.get("signal")
    try:
        return signal.Signals(number).name
    except (AttributeError, ValueError):
        return str(number)


def is_broken_pool(exc):
    process = sys.modules.get("concurrent.futures.process")
    return process is not None and isinstance(exc, process.BrokenProcessPool)

RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))
FRAME_RE = r'File "(.+?)", line (\d+), in (.+)'  # compiled on first use (re caches it), not at every start
PICKLE_HINT = (
    "A process pool sends the function and every argument and result to another process with pickle. "
    "Use a module-level function and plain data (no lambdas, nested functions, locks, open files or sockets), "
    "or run it on the thread pool, which needs no pickling."
)


def defined_under_main_guard(file, fn_name):
    """The line of a `def fn_name` inside a top-level `if __name__ == "__main__":` block, or None."""
    import ast  # only on this error's path

    try:
        with open(file, "rb") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        test = getattr(node, "test", None) if isinstance(node, ast.If) else None
        if not (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
                and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and inner.name == fn_name:
                return inner.lineno
    return None


# Methods a pool can call as Class.method: they need no object.
NO_OBJECT = (staticmethod, classmethod)


def frames_of(text, user_dir):
    frames = []
    for m in re.finditer(FRAME_RE, text):
        path = m.group(1)
        user = (
            path.startswith(user_dir)
            and not path.startswith(RUNNER_DIR)
            and "site-packages" not in path
        )
        frames.append({"file": path, "line": int(m.group(2)), "function": m.group(3).strip(), "user": user})
    return frames


def strip_runner_frames(text):
    """Drops the runner's own frames from a traceback: the user should see their code."""
    out = []
    skip = False
    for line in text.splitlines():
        m = re.search(FRAME_RE, line)
        if m:
            skip = m.group(1).startswith(RUNNER_DIR) or "/concurrent/futures/" in m.group(1)
            if skip:
                continue
        elif skip and re.sub(r"^(\s*\|)+ ?", "", line).startswith("    "):
            # The skipped frame's source line and its ^^^ markers (inside an exception group's
            # traceback, behind its "  | " margin).
            continue
        else:
            skip = False
        out.append(line)
    return "\n".join(out)


UNPICKLE_HINT = (
    "An exception whose __init__ takes more than its message (class E(Exception): def __init__(self, field, reason)) "
    "is pickled as E(message) and cannot be rebuilt from that: pass every argument on, super().__init__(field, reason), "
    "or define __reduce__. The executor is broken by it: every pending future fails with BrokenProcessPool."
)


INHERIT_HINT = (
    "multiprocessing's Queue, Lock, Event, Value and Array reach another process only as it starts (inheritance), "
    "never as a task's argument or result. Use a Manager's proxies instead (m = multiprocessing.Manager(); q = m.Queue(): they pickle), "
    "or hand the object to every worker once through the pool's initializer (ProcessPoolExecutor(initializer=f, initargs=(q,))) "
    "and keep it in a global there."
)


LOCK_HINT = (
    "A threading lock (or an RLock, Condition or Event, which hold one) works within one process: it cannot be pickled, "
    "and a copy in a worker would lock nothing the others see. To share a lock between worker processes, pass one from a Manager "
    "(m = multiprocessing.Manager(); lock = m.Lock(): a proxy, which pickles), or run on the thread pool, where a threading.Lock works as it is."
)


def unsent_call(exc):
    """True for the failure of a call the executor could not pickle for its workers: its feeder
    thread fails that call's future with the pickling error, the traceback of multiprocessing's
    `_feed` as its cause (3.9 to 3.13). A task's own exception carries where it ran instead."""
    cause = getattr(exc, "__cause__", None)
    return type(cause).__name__ == "_RemoteTraceback" and " in _feed\n" in str(cause) and not hasattr(exc, "poolscope_ran")


def unsent(info, what):
    """`info` of a call that never reached a worker (unsent_call), said as a pickling failure of
    `what` ("the arguments of task 3"): the bare "cannot pickle '_thread.lock' object" did not say
    which object, nor that it was on its way to the process pool."""
    message = info["message"]
    info["kind"] = "pickling"
    info["message"] = "%s cannot be pickled for the process pool: %s" % (what, message)
    if "'_thread.lock'" in message or "'_thread.RLock'" in message:
        info["hint"] = LOCK_HINT
    elif "should only be shared between processes through inheritance" in message:
        info["hint"] = INHERIT_HINT
    else:
        info["hint"] = PICKLE_HINT
    return info


def picklable(value):
    import pickle

    try:
        pickle.dumps(value)
    except Exception:  # noqa: BLE001 - any failure means the pool could not send it
        return False
    return True


def unpickling_failure(exc):
    """The error behind a BrokenProcessPool raised because the executor could not unpickle what a
    worker sent back (its cause is that traceback, as text), e.g. "TypeError: E.__init__() missing 1
    required positional argument: 'reason'"; None for any other break."""
    text = str(getattr(exc, "__cause__", None) or "")
    if "result_reader.recv()" not in text:
        return None
    lines = [line for line in text.strip().splitlines() if line.strip() and line.strip() != "'''"]
    return lines[-1].strip() if lines else None


def function_not_found(module, fn_name, file):
    """FunctionNotFound, with the file's functions (decorated ones too: an lru_cache wrapper is
    no FunctionType) and, for a method's name, why a pool cannot call it and what to write."""
    import types  # not inspect: the user's folder may hold an inspect.py

    def own(v):
        while v is not None:
            if isinstance(v, types.FunctionType):
                return v.__module__ == module.__name__
            v = getattr(v, "__wrapped__", None)
        return False

    own_classes = [c for c in vars(module).values() if isinstance(c, type) and c.__module__ == module.__name__]
    names = sorted(n for n, v in vars(module).items() if not isinstance(v, type) and own(v))
    # Static and class methods run too, as Class.method.
    names += sorted("%s.%s" % (c.__name__, k) for c in own_classes for k, v in vars(c).items() if isinstance(v, NO_OBJECT))
    info = {
        "kind": "load", "name": "FunctionNotFound",
        "message": "no top-level function %r in %s" % (fn_name, file),
        "hint": ("Functions in this file: " + ", ".join(names)) if names else "This file defines no top-level functions.",
    }
    guarded = defined_under_main_guard(file, fn_name)
    if guarded:
        info["message"] = "%s is defined under `if __name__ == \"__main__\":` (line %d of %s), which is false when a pool imports the file, so it does not exist there" % (fn_name, guarded, os.path.basename(file))
        info["hint"] = "Move the function above the guard, to the top level, and keep only the script's own start (the calls) under it. %s" % info["hint"]
        return info
    method = fn_name.rsplit(".", 1)[-1]
    wanted = [c for c in own_classes if method in vars(c) and fn_name in (method, "%s.%s" % (c.__name__, method))]
    if wanted and isinstance(vars(wanted[0])[method], NO_OBJECT):
        c = wanted[0]
        kind = "static method" if isinstance(vars(c)[method], staticmethod) else "class method"
        info["message"] = "%s is a %s of class %s, not a top-level function of %s" % (method, kind, c.__name__, os.path.basename(file))
        info["hint"] = "It needs no object: run it as `%s.%s` (the run commands do, with the cursor in it). %s" % (c.__name__, method, info["hint"])
    elif wanted:
        c = wanted[0]
        info["message"] = "%s is a method of class %s, not a top-level function of %s" % (method, c.__name__, os.path.basename(file))
        info["hint"] = (
            "A pool calls top-level functions (a process pool finds them by name in another interpreter, with no object to call a method on). "
            "Add one that makes the object and calls it, e.g. `def %s_task(x): return %s().%s(x)`, and run that. %s" % (method, c.__name__, method, info["hint"])
        )
    return info


def unpicklable_function(fn, fn_name):
    """The PicklingError for a function a process pool cannot find by its name."""
    qualname = fn.__qualname__
    message = "%s is %s, which a process pool cannot pickle by name" % (fn_name, "a lambda" if "<lambda>" in qualname else "not defined at the top level under that name (%s)" % qualname)
    hint = PICKLE_HINT
    if ".<locals>." in qualname and any(_cell_is_function_named(c, fn_name) for c in (getattr(fn, "__closure__", None) or ())):
        decorator = qualname.split(".<locals>.", 1)[0]
        message = "%s is wrapped by the decorator %s, whose inner function (%s) does not carry the name %s: a process pool cannot pickle it by name" % (fn_name, decorator, qualname, fn_name)
        hint = (
            "Put @functools.wraps(fn) on the decorator's inner function: it then carries the name %s, and a process pool pickles it by that name "
            "(the thread pool needs no pickling)." % fn_name
        )
    return {"kind": "pickling", "name": "PicklingError", "message": message, "hint": hint}


def _cell_is_function_named(cell, name):
    try:
        v = cell.cell_contents
    except ValueError:  # an empty cell
        return False
    return getattr(v, "__name__", None) == name and callable(v)


def missing_module_hint(name, user_dir):
    """A package missing from this interpreter is most often installed in another one (the
    project's .venv): say which interpreter ran, and both ways out."""
    top = name.split(".", 1)[0]
    if os.path.exists(os.path.join(user_dir, top + ".py")) or os.path.isdir(os.path.join(user_dir, top)):
        return None  # the user's own module: an import path problem, not an environment one
    version = "%d.%d.%d" % sys.version_info[:3]
    return (
        "This ran %s (Python %s), which does not have %r. If the project's packages are in another environment (a .venv), "
        "run with that interpreter: \"Poolscope: Select Python Interpreter\" (or the setting poolscope.pythonPath; --python on the command line). "
        "Otherwise install it into this one: %s -m pip install <the package that provides %s>." % (sys.executable, version, top, sys.executable, top)
    )


def syntax_frame(exc, user):
    """The line and column a SyntaxError names, as a frame."""
    return {"file": os.path.abspath(exc.filename), "line": exc.lineno or 1, "column": exc.offset or 1, "function": "<module>", "user": user}


# As ERROR_MESSAGE_LIMIT, ERROR_LINE_LIMIT and ERROR_STACK_LIMIT in engine/protocol/events.ts.
ERROR_MESSAGE_LIMIT = 8 * 1024
ERROR_LINE_LIMIT = 4 * 1024
ERROR_STACK_LIMIT = 64 * 1024


def cut_text(text, limit):
    """As cutText in engine/protocol/events.ts: `text` cut to `limit` characters, saying how much was cut."""
    return text if len(text) <= limit else "%s\u2026 (%s more characters cut)" % (text[:limit], format(len(text) - limit, ","))


def cut_stack(text):
    """A traceback bounded per line and in all, its frames kept when one line (the message) is huge."""
    if len(text) > ERROR_LINE_LIMIT:
        text = "\n".join(cut_text(line, ERROR_LINE_LIMIT) for line in text.split("\n"))
    return cut_text(text, ERROR_STACK_LIMIT)


def error_info(exc, user_dir, kind=None):
    """The task's error as the protocol carries it (ErrorInfo); never raises: an exception raised
    here, by a __str__ that raises say, left its task without an ending and the run waiting forever."""
    try:
        info = _error_info(exc, user_dir, kind)
    except Exception as e:  # noqa: BLE001 - the task must still get its ending
        info = {"kind": kind or "exception", "name": _type_name(exc), "message": "Poolscope could not describe this exception (%s: %s)" % (_type_name(e), pw.exception_text(e))}
    info["message"] = cut_text(info["message"], ERROR_MESSAGE_LIMIT)
    if "stack" in info:
        info["stack"] = cut_stack(info["stack"])
    return info


def _type_name(value):
    return getattr(type(value), "__name__", "Exception")


def _error_info(exc, user_dir, kind):
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    text = strip_runner_frames(text)
    name = type(exc).__name__
    message = pw.exception_text(exc)
    hint = None
    if kind is None:
        kind = "exception"
        if is_broken_pool(exc):
            kind = "brokenPool"
        elif isinstance(exc, SystemExit):
            kind = "systemExit"
            message = "the task called sys.exit(%s)" % (exc.code,)
            hint = "sys.exit() raises SystemExit; in a pool it ends the task, not the program. Return or raise instead."
        elif isinstance(exc, pw.ResultNotPicklable):
            kind = "pickling"
            hint = PICKLE_HINT
        elif "pickle" in message.lower() or name in ("PicklingError", "PickleError"):
            kind = "pickling"
            hint = PICKLE_HINT
        elif "should only be shared between processes through inheritance" in message:
            kind = "pickling"
            hint = INHERIT_HINT
        elif isinstance(exc, TypeError) and re.search(r"\d+ (required )?positional arguments?|positional arguments? but \d+ (was|were) given", message):
            hint = "Each input item is one call, and a tuple or list item is spread into its arguments: to pass a list as one argument, wrap it in a tuple, e.g. [([1, 2, 3],), ([4, 5],)]."
        elif isinstance(exc, ValueError) and message.startswith("signal only works in main thread"):
            hint = ("A thread pool runs each task in a worker thread, and Python sets signal handlers in the main thread only: "
                    "set the handler once at the module's top level (the module is imported in the main thread), or run on a process pool, "
                    "whose tasks run in their process's main thread.")
        elif isinstance(exc, EOFError) and message == "EOF when reading a line":
            hint = "A task has no keyboard: input() reads an empty standard input. Pass what it would ask for as an argument (the run's inputs)."
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        hint = missing_module_hint(exc.name, user_dir) or hint
    frames = frames_of(text, user_dir)
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno and os.path.isfile(exc.filename):  # not "<string>" (eval)
        # Where the compiler stopped, in a module the code imported: the traceback names it on a
        # line of its own, not as a frame, and that is the line to open.
        path = os.path.abspath(exc.filename)
        frames.append(syntax_frame(exc, path.startswith(user_dir) and "site-packages" not in path))
    info = {"kind": kind, "name": name, "message": message, "stack": text, "frames": frames}
    if hint:
        info["hint"] = hint
    return info


def error_info_from_text(name, message, stack, user_dir):
    """A worker's exception, as its traceback text (it cannot travel as an object)."""
    text = cut_stack(strip_runner_frames(stack))
    return {"kind": "brokenPool", "name": name, "message": cut_text(message, ERROR_MESSAGE_LIMIT), "stack": text, "frames": frames_of(text, user_dir)}
