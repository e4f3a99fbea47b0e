"""Entry of Poolscope's Python runner; the runner itself is the module poolscope_runner.

A script's own code is compiled on every start and a module's is cached (__pycache__): with the
runner in a module, a run starts ~20 ms sooner. This file stays small and Python-2-parsable so
that an old interpreter gets a clear message instead of a syntax error.
"""
import os
import sys

if sys.version_info < (3, 9):
    sys.stderr.write("POOLSCOPE_PYTHON_TOO_OLD %d.%d\n" % sys.version_info[:2])
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if __name__ == "__main__":
    # Our own bytecode is cached even where PYTHONDONTWRITEBYTECODE is set; the user's modules,
    # imported later, follow the user's setting.
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    import poolscope_runner

    sys.dont_write_bytecode = dont_write
    poolscope_runner.main()
