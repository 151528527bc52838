"""Scripts bring their own dependencies: found in their imports, locked, installed once.

pyimports.py and tsimports.py read what a script needs (parsing, never importing);
locks.py is the lock format (Windmill's); python_env.py (uv) and npm_env.py (bun)
resolve needs to a lock and install a lock; cache.py keeps one environment per lock;
service.py (`Dependencies`) ties them together for saving scripts and running them.
"""
