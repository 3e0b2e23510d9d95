# cmake -DIN=docs/cli/evidence-<cmd>.md -DOUT=evidence-<cmd>.1 -DVERSION=x.y.z -P manpage.cmake
#
# A man page from a help page. docs/cli/*.md is the one source of the help
# text (`evidence help <cmd>` prints it as it is): its first line is
# "NAME - summary", the rest is preformatted text, kept as it is in the page.
file(READ "${IN}" txt)
string(REGEX MATCH "^[^\n]*" first "${txt}")
string(LENGTH "${first}" flen)
string(SUBSTRING "${txt}" ${flen} -1 body)
string(REGEX REPLACE "^\n+" "" body "${body}")
get_filename_component(page "${OUT}" NAME_WE)
string(TOUPPER "${page}" PAGE)
# roff: a backslash is \e; a line that starts with . or ' is protected by \&
string(REPLACE "\\" "\\e" first "${first}")
string(REPLACE "\\" "\\e" body "${body}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" body "${body}")
string(REPLACE " - " " \\- " first "${first}")
file(WRITE "${OUT}"
".\\\" Generated from ${IN}; do not edit.\n"
".TH ${PAGE} 1 \"\" \"evidence ${VERSION}\" \"evidence manual\"\n"
".SH NAME\n${first}\n"
".SH DESCRIPTION\n.nf\n${body}\n.fi\n"
".SH SEE ALSO\n\\fBevidence\\fR(1); docs/ in the source tree: bundle.md, verify-codes.md, media.md, profiles.md, signing.md, auditing.md\n")
