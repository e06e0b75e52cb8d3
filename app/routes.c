/* THE route table.  Audit here: method, path, format, who may call, CSRF. */
#include "config.h"
#include "router.h"
#include "auth.h"
#include "req.h"
#include "../handlers/handlers.h"

#define GET M_GET
#define POST M_POST

const struct route routes[] = {
	/* method  pattern        handler               format    auth          roles flags */
	{GET,  "/",               h_home_show,          FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/login",          h_auth_login_form,    FMT_HTML, AUTH_PUBLIC,  0, 0},
	{POST, "/login",          h_auth_login,         FMT_HTML, AUTH_PUBLIC,  0, ROUTE_CSRF_PRE},
	{POST, "/logout",         h_auth_logout,        FMT_HTML, AUTH_PAGE,    0, ROUTE_CSRF},
	/* cross-login (COMPAT f): the token or the portal's cookie is the credential; a POST
	 * (same-site forms only: cross-site ones are refused above) carries the pre-login token */
	{GET | POST, "/jwt-login", h_auth_jwt_login,    FMT_HTML, AUTH_PUBLIC,  0, ROUTE_CSRF_PRE},
	/* the settings page and its forms (h_config.c) */
	{GET,  "/config",         h_config_show,        FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/config/",        h_config_show,        FMT_HTML, AUTH_PAGE,    0, 0}, /* nginx's location /config/ sends /config here (301) */
	{POST, "/config/form/settings", h_config_form_settings, FMT_HTML, AUTH_PAGE, 0, ROUTE_CSRF},
	{POST, "/config/form/token", h_config_form_token, FMT_HTML, AUTH_PAGE,   ROLE_API, ROUTE_CSRF},
	{POST, "/config/form/user/add", h_config_form_user_add, FMT_HTML, AUTH_PAGE, ROLE_ADMIN, ROUTE_CSRF},
	{POST, "/config/form/user/delete", h_config_form_user_delete, FMT_HTML, AUTH_PAGE, ROLE_ADMIN, ROUTE_CSRF},
	{POST, "/config/form/user/edit", h_config_form_user_edit, FMT_HTML, AUTH_PAGE, ROLE_ADMIN, ROUTE_CSRF},
	{POST, "/config/form/user/jwt", h_config_form_user_jwt, FMT_HTML, AUTH_PAGE, ROLE_ADMIN, ROUTE_CSRF},
	{POST, "/config/form/notice", h_config_form_notice, FMT_HTML, AUTH_PAGE, ROLE_ADMIN, ROUTE_CSRF},
	{POST, "/config/form/logo", h_config_form_logo, FMT_HTML, AUTH_PAGE,    ROLE_ADMIN, ROUTE_CSRF},
	{POST, "/config/form/logo/delete", h_config_form_logo_delete, FMT_HTML, AUTH_PAGE, ROLE_ADMIN, ROUTE_CSRF},
	{GET,  "/img/logo",       h_config_logo,        FMT_HTML, AUTH_PUBLIC,  0, 0},
	/* session helpers of cc-backend's settings page (COMPAT a.2): /config/... admin, /frontend/... anyone */
	{GET,  "/config/roles/",  h_config_roles,       FMT_JSON, AUTH_CONFIG,  0, 0},
	{M_POST | M_PUT, "/config/users/", h_config_users_create, FMT_JSON, AUTH_CONFIG, 0, ROUTE_CSRF},
	{GET,  "/config/users/",  h_config_users_list,  FMT_JSON, AUTH_CONFIG,  0, 0},
	{M_DELETE, "/config/users/", h_config_users_delete, FMT_JSON, AUTH_CONFIG, 0, ROUTE_CSRF},
	{POST, "/config/user/{id}", h_config_user_update, FMT_JSON, AUTH_CONFIG, 0, ROUTE_CSRF},
	{POST, "/config/notice/", h_config_notice,      FMT_JSON, AUTH_CONFIG,  0, ROUTE_CSRF},
	{GET,  "/config/taggers/", h_config_taggers,    FMT_JSON, AUTH_CONFIG,  0, 0},
	{POST, "/config/taggers/run/", h_config_taggers_run, FMT_JSON, AUTH_CONFIG, 0, ROUTE_CSRF},
	{GET,  "/frontend/jwt/",  h_frontend_jwt,       FMT_JSON, AUTH_FRONTEND, 0, 0},
	{POST, "/frontend/configuration/", h_frontend_configuration, FMT_JSON, AUTH_FRONTEND, 0, ROUTE_CSRF},
	{GET,  "/frontend/logs/", h_frontend_logs,      FMT_JSON, AUTH_FRONTEND, ROLE_ADMIN, 0},
	{GET,  "/monitoring/jobs/", h_jobs_list,        FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/monitoring/job/{id}", h_job_show,      FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/monitoring/users/", h_users_list,      FMT_HTML, AUTH_PAGE,    ROLE_MANAGER | ROLE_SUPPORT | ROLE_ADMIN, 0},
	{GET,  "/monitoring/projects/", h_projects_list, FMT_HTML, AUTH_PAGE,   ROLE_MANAGER | ROLE_SUPPORT | ROLE_ADMIN, 0},
	{GET,  "/monitoring/user/{id}", h_users_show,    FMT_HTML, AUTH_PAGE,   0, 0},
	{GET,  "/monitoring/tags/", h_tags_list,        FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/search",         h_search_redirect,    FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/imprint",        h_pages_imprint,      FMT_HTML, AUTH_PUBLIC,  0, 0},
	{GET,  "/privacy",        h_pages_privacy,      FMT_HTML, AUTH_PUBLIC,  0, 0},
	{GET,  "/healthz",        h_health_show,        FMT_TEXT, AUTH_PUBLIC,  0, 0},
	{GET,  "/ping",           h_health_ping,        FMT_TEXT, AUTH_PUBLIC,  0, 0},
	/* REST API (COMPAT a.2): JWT; the group's role gate is in dispatch.c */
	{M_POST | M_PUT, "/api/jobs/start_job/", h_api_start_job, FMT_JSON, AUTH_API, 0, 0},
	{M_POST | M_PUT, "/api/jobs/stop_job/", h_api_stop_job, FMT_JSON, AUTH_API, 0, 0},
	{GET,  "/api/jobs/",      h_api_jobs_list,      FMT_JSON, AUTH_API,     0, 0},
	{GET,  "/api/jobs/used_nodes", h_api_used_nodes, FMT_JSON, AUTH_API,    0, 0},
	{M_POST | M_PATCH, "/api/jobs/tag_job/{id}", h_api_tag_job, FMT_JSON, AUTH_API, 0, 0},
	{M_DELETE, "/api/jobs/tag_job/{id}", h_api_untag_job, FMT_JSON, AUTH_API, 0, 0},
	{M_PATCH, "/api/jobs/edit_meta/{id}", h_api_edit_meta_id, FMT_JSON, AUTH_API, 0, 0},
	{M_PATCH, "/api/jobs/edit_meta/", h_api_edit_meta, FMT_JSON, AUTH_API,  0, 0},
	{GET,  "/api/jobs/metrics/{id}", h_api_job_metrics, FMT_JSON, AUTH_API, 0, 0},
	{M_DELETE, "/api/jobs/delete_job/", h_api_delete_job, FMT_JSON, AUTH_API, 0, 0},
	{M_DELETE, "/api/jobs/delete_job/{id}", h_api_delete_job_id, FMT_JSON, AUTH_API, 0, 0},
	{M_DELETE, "/api/jobs/delete_job_before/{ts}", h_api_delete_job_before, FMT_JSON, AUTH_API, 0, 0},
	{GET,  "/api/jobs/{id}",  h_api_job_get,        FMT_JSON, AUTH_API,     0, 0},
	{POST, "/api/jobs/{id}",  h_api_job_post,       FMT_JSON, AUTH_API,     0, 0},
	{M_DELETE, "/api/tags/",  h_api_tags_delete,    FMT_JSON, AUTH_API,     0, 0},
	{GET,  "/api/clusters/",  h_api_clusters,       FMT_JSON, AUTH_API,     0, 0},
	{GET,  "/api/users/",     h_api_users_list,     FMT_JSON, AUTH_API,     0, 0},
	{POST, "/api/user/{id}",  h_api_user_update,    FMT_JSON, AUTH_API,     0, 0},
	{M_POST | M_PUT, "/api/nodestate/", h_api_nodestate, FMT_JSON, AUTH_API, 0, 0},
	{POST, "/api/healthcheck", h_api_nodestate,     FMT_JSON, AUTH_METRICSTORE, 0, 0},
	{POST, "/api/healthcheck/", h_api_nodestate,    FMT_JSON, AUTH_METRICSTORE, 0, 0},
	{GET,  "/userapi/jobs/",  h_api_jobs_list,      FMT_JSON, AUTH_USERAPI, 0, 0},
	{GET,  "/userapi/jobs/metrics/{id}", h_api_job_metrics, FMT_JSON, AUTH_USERAPI, 0, 0},
	{GET,  "/userapi/jobs/{id}", h_api_job_get,     FMT_JSON, AUTH_USERAPI, 0, 0},
	{POST, "/userapi/jobs/{id}", h_api_job_post,    FMT_JSON, AUTH_USERAPI, 0, 0},
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
