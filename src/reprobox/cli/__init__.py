"""The thin click layer: parse, call one library function, render. No logic lives here."""
