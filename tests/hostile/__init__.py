"""The hostile and broken input corpus: generated on demand, never committed as bytes.

`images` writes small valid archives to damage; `mutate` damages existing archives (truncation,
byte flips, where members lie); `bombs` makes inputs that expand (decompression bombs, a huge
zstd window, deep and large JSON, many entries) without writing their expanded size anywhere;
`builders` assembles hostile images from those parts; `cases` is the table of every case
(`cases_archive`, `cases_layers`) with the outcome the command line must give (`expect`);
`fuzzkit` holds what the property-based fuzz tests share.
"""
