"""gep: spatial indicators of the 两山指数 (7: 林草覆盖率, 9: 生态保护红线面积, 10: GEP per km²) and GEP accounts.

Every computation lives in this package; the Snakemake rules only wire files to it through the ``gep``
command line. Importing gep changes nothing in the process: the command line tunes its own process at start-up
(:mod:`gep.cli.process`). The layers, from the bottom: ``core`` and ``config`` (light), ``io``, ``raster``,
``vector``, ``hydrology``, ``accounting``, ``indicators`` (coverage = 7, protected = 9, gep = 10),
``scorecard``, ``workflow``, ``cli``; a module imports only from its own layer or lower ones.
"""

__version__ = "0.1.0"
