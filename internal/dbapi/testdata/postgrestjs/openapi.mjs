// Validates the OpenAPI description Truss serves at /rest/v1/ with
// swagger-parser (internal/dbapi/openapi_test.go): it must be a valid
// OpenAPI 2.0 document whose $refs all resolve. Prints the paths.
import SwaggerParser from '@apidevtools/swagger-parser'

const res = await fetch(process.env.TRUSS_URL + '/rest/v1/', { headers: { apikey: process.env.TRUSS_KEY } })
if (res.status !== 200) {
  console.error(`GET /rest/v1/: ${res.status} ${await res.text()}`)
  process.exit(1)
}
try {
  const api = await SwaggerParser.validate(await res.json())
  console.log(JSON.stringify(Object.keys(api.paths).sort()))
} catch (err) {
  console.error(`invalid OpenAPI: ${err.message}`)
  process.exit(1)
}
