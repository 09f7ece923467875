from rcmedia.cli import main

main()
