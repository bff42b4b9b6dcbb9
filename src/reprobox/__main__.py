from reprobox.cli.main import main

main()
