/*
 * The smallest FastCGI responder libfcgi allows: the ceiling any worker
 * behind the same web server can reach, for the benchmarks to compare
 * jamb against.  It serves the socket it is handed on fd 0, the way
 * spawn-fcgi starts it, and answers every request with "ok".
 */
#include <fcgiapp.h>

static const char reply[] =
	"Status: 200 OK\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 3\r\n"
	"\r\n"
	"ok\n";

int
main(void)
{
	FCGX_Request	req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;

	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(reply, sizeof(reply) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
