/* Every handler: validate input, ask the core, build one json-c model, hand it
 * to a template (HTML) or the JSON writer (API).  A handler returns the HTTP
 * status; for a status >= 400 with an empty body the dispatcher renders the
 * error in the route's format (w->error carries the message). */
#ifndef JOBSCOPE_HANDLERS_H
#define JOBSCOPE_HANDLERS_H

struct req;
struct resp;

/* h_home.c */
int h_home_show(struct req *r, struct resp *w);
/* h_auth.c */
int h_auth_login_form(struct req *r, struct resp *w);
int h_auth_login(struct req *r, struct resp *w);
int h_auth_logout(struct req *r, struct resp *w);
int h_auth_jwt_login(struct req *r, struct resp *w);
/* shown by the dispatcher for pages that need a login */
int h_auth_login_required(struct req *r, struct resp *w);
/* h_job.c */
int h_job_show(struct req *r, struct resp *w);
/* h_jobs.c */
int h_jobs_list(struct req *r, struct resp *w);
/* h_users.c */
int h_users_list(struct req *r, struct resp *w);
int h_projects_list(struct req *r, struct resp *w);
int h_users_show(struct req *r, struct resp *w);
/* h_tags.c */
int h_tags_list(struct req *r, struct resp *w);
/* h_search.c */
int h_search_redirect(struct req *r, struct resp *w);
/* h_pages.c */
int h_pages_imprint(struct req *r, struct resp *w);
int h_pages_privacy(struct req *r, struct resp *w);
/* h_api_jobs.c (REST API) */
int h_api_start_job(struct req *r, struct resp *w);
int h_api_stop_job(struct req *r, struct resp *w);
int h_api_jobs_list(struct req *r, struct resp *w);
int h_api_used_nodes(struct req *r, struct resp *w);
int h_api_tag_job(struct req *r, struct resp *w);
int h_api_untag_job(struct req *r, struct resp *w);
int h_api_edit_meta_id(struct req *r, struct resp *w);
int h_api_edit_meta(struct req *r, struct resp *w);
int h_api_job_metrics(struct req *r, struct resp *w);
int h_api_delete_job(struct req *r, struct resp *w);
int h_api_delete_job_id(struct req *r, struct resp *w);
int h_api_delete_job_before(struct req *r, struct resp *w);
int h_api_job_get(struct req *r, struct resp *w);
int h_api_job_post(struct req *r, struct resp *w);
/* h_api_admin.c (REST API) */
int h_api_users_list(struct req *r, struct resp *w);
int h_api_user_update(struct req *r, struct resp *w);
int h_api_clusters(struct req *r, struct resp *w);
int h_api_nodestate(struct req *r, struct resp *w);
int h_api_tags_delete(struct req *r, struct resp *w);
/* h_config.c (settings page and its forms, the /config/ helpers, /img/logo) */
int h_config_show(struct req *r, struct resp *w);
int h_config_form_settings(struct req *r, struct resp *w);
int h_config_form_token(struct req *r, struct resp *w);
int h_config_form_user_add(struct req *r, struct resp *w);
int h_config_form_user_delete(struct req *r, struct resp *w);
int h_config_form_user_edit(struct req *r, struct resp *w);
int h_config_form_user_jwt(struct req *r, struct resp *w);
int h_config_form_notice(struct req *r, struct resp *w);
int h_config_form_logo(struct req *r, struct resp *w);
int h_config_form_logo_delete(struct req *r, struct resp *w);
int h_config_logo(struct req *r, struct resp *w);
int h_config_roles(struct req *r, struct resp *w);
int h_config_users_list(struct req *r, struct resp *w);
int h_config_users_create(struct req *r, struct resp *w);
int h_config_users_delete(struct req *r, struct resp *w);
int h_config_user_update(struct req *r, struct resp *w);
int h_config_notice(struct req *r, struct resp *w);
int h_config_taggers(struct req *r, struct resp *w);
int h_config_taggers_run(struct req *r, struct resp *w);
/* h_frontend.c */
int h_frontend_jwt(struct req *r, struct resp *w);
int h_frontend_configuration(struct req *r, struct resp *w);
int h_frontend_logs(struct req *r, struct resp *w);
/* h_health.c */
int h_health_show(struct req *r, struct resp *w);
int h_health_ping(struct req *r, struct resp *w);

#endif
