#ifndef JAMB_PASSWORD_H
#define JAMB_PASSWORD_H
#endif
