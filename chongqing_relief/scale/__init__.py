"""The city-scale synthetic dataset of ``manage.py seed_scale`` (benchmarks only, PostgreSQL).

Each module writes one part with set-based SQL, in the order the command runs them:
``register`` (staff, households, members, income, sealing), ``cases`` (entitlements,
applications, assessments, visits, notices, objections), ``reviews`` (periodic reviews and
terminations) and ``payrolls`` (a year of paid payrolls and the funds behind them). ``base``
holds what they share. Everything is derived from a household's ordinal ``g`` (1…N) through a
hash, so the same N gives the same rows whatever the database held before."""
