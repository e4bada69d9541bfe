"""The hostile and broken input corpus: generated on demand, never committed as bytes.

`images` writes small valid archives to damage; `mutate` damages existing archives (truncation,
byte flips, member surgery); `bombs` makes inputs that expand (decompression bombs, huge JSON,
many entries) without writing their expanded size anywhere; `cases` is the table of every case
with the outcome the command line must give.
"""
