from ecqm.cli import main

raise SystemExit(main())
