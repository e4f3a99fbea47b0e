"""Names a module's code reads that nothing defines: what a NameError would say at run time,
found before a rare path runs (symtable: the compiler's own scopes)."""
import builtins
import symtable
import sys


def undefined(path):
    src = open(path, encoding="utf-8").read()
    top = symtable.symtable(src, path, "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    # `global x` in a function that assigns x defines it too.
    missing = []

    def walk(table):
        for s in table.get_symbols():
            name = s.get_name()
            if table.get_type() != "module" and s.is_global() and s.is_assigned():
                defined.add(name)
        for child in table.get_children():
            walk(child)

    walk(top)

    def check(table):
        for s in table.get_symbols():
            name = s.get_name()
            if not s.is_referenced():
                continue
            is_global = s.is_global() if table.get_type() != "module" else not (s.is_assigned() or s.is_imported() or s.is_namespace())
            if is_global and name not in defined and not hasattr(builtins, name) and name not in ("__file__", "__name__", "__builtins__", "__spec__", "__doc__"):
                missing.append("%s: %s (in %s, line %d)" % (path, name, table.get_name(), table.get_lineno()))
        for child in table.get_children():
            check(child)

    check(top)
    return missing


if __name__ == "__main__":
    found = [m for p in sys.argv[1:] for m in undefined(p)]
    print("\n".join(found))
    sys.exit(1 if found else 0)
