"""The click entry point, runnable from a checkout as `python cli.py ...`.

The commands live in derive/cli_app.py so that the installed console script `softmax-derive`
does not put a generic top-level module named `cli` into users' site-packages.
"""
from derive.cli_app import main

cli = main

if __name__ == "__main__":
    main()
