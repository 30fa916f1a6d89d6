/*
 * Shared by the JOSE unit tests (test_jwt, test_jwk): the published
 * examples of RFC 7515 and RFC 8037, and keys made with OpenSSL.
 */
#ifndef JAMB_TEST_JOSE_H
#define JAMB_TEST_JOSE_H

#include <openssl/evp.h>

#include "jwk.h"

/* RFC 7515 appendix A: one payload for A.1 to A.3, valid until 2011. */
#define RFC_PAYLOAD	"eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQog" \
			"Imh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define RFC_NOW		1300819000

#define A1_TOKEN	"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." \
			RFC_PAYLOAD "." \
			"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define A1_JWKS		"{\"keys\":[{\"kty\":\"oct\",\"k\":\"" \
			"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0g" \
			"ZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}]}"

#define A2_N	"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W2" \
		"6mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SF" \
		"d2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7" \
		"OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo" \
		"7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT" \
		"6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkM" \
		"Ls91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define A2_D	"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88v" \
		"LNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395" \
		"IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0" \
		"QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV" \
		"_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT" \
		"5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQ" \
		"yGWSeWjnczT0QU91p1DhOVRuOopznQ"
#define A2_P	"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnE" \
		"tfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7" \
		"ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC" \
		"-KDV5z-y2XDwGUc"
#define A2_Q	"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8" \
		"YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wD" \
		"mpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF66" \
		"89rjcJIDEz9RWdc"
#define A2_DP	"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm" \
		"71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12S" \
		"k3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1" \
		"C1XsmvkxHQAdYo0"
#define A2_DQ	"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOl" \
		"ODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd" \
		"2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3n" \
		"ssTdlqvd0tIiTHU"
#define A2_QI	"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdg" \
		"jVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLE" \
		"dfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQw" \
		"VK0JKSHuLFkuQ3U"
#define A2_SIG	"cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu" \
		"3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdb" \
		"F9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO7" \
		"5vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383" \
		"LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1p" \
		"hCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWy" \
		"wlVmtVrBp0igcN_IoypGlUPQGe77Rw"
#define A2_INPUT	"eyJhbGciOiJSUzI1NiJ9." RFC_PAYLOAD
#define A2_PUBLIC	"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" A2_N \
			"\",\"e\":\"AQAB\"}]}"
#define A2_PRIVATE	"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a2\"," \
			"\"n\":\"" A2_N "\",\"e\":\"AQAB\"," \
			"\"d\":\"" A2_D "\",\"p\":\"" A2_P "\"," \
			"\"q\":\"" A2_Q "\",\"dp\":\"" A2_DP "\"," \
			"\"dq\":\"" A2_DQ "\",\"qi\":\"" A2_QI "\"}]}"

#define A3_X	"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y	"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define A3_D	"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"
#define A3_TOKEN	"eyJhbGciOiJFUzI1NiJ9." RFC_PAYLOAD "." \
			"DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjD" \
			"xw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

/* RFC 8037 appendix A.1 and A.4. */
#define ED_D	"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define ED_X	"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define ED_INPUT "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define ED_SIG	"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR" \
		"4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
#define ED_THUMBPRINT	"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

/* The order of P-256, for signatures at the edge of the valid range. */
#define P256_ORDER	"FFFFFFFF00000000FFFFFFFFFFFFFFFF" \
			"BCE6FAADA7179E84F3B9CAC2FC632551"

EVP_PKEY	*jose_keygen(const char *, const char *);
char		*jose_pem(EVP_PKEY *, int);
void		 jose_add_pem(struct jwk_set *, EVP_PKEY *, int,
		    const char *);
struct jwk_set	*jose_jwks(const char *);

#endif
