"""The untrusted side of the grader: code that runs inside the sandbox next to student code.

It may import only what the sandbox shows it (this package, ``rnncourse``, the Python
environment, ``data/``); it never sees ``grader/``, ``solutions/`` or a gradebook.
"""
