"""`python -m brokers.sim --login N script.py`: run a MetaTrader5 script on the simulator
(`brokers.sim.module.main`)."""

from brokers.sim.module import main

raise SystemExit(main())
