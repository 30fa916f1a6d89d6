#ifndef JAMB_MARKDOWN_H
#define JAMB_MARKDOWN_H
#endif
