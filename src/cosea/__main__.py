from cosea.cli import main

main()
