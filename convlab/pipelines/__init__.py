"""Qt-free services that the window and the command line share."""
