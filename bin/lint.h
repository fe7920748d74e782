/*
 * lint.h: what the modules of pgsse-lint share. pgsse-lint.c checks
 * pages, scripts and publishers against a registry; lint-app.c checks
 * an app folder with them; lint-job.c checks its job kinds and the
 * payloads its job scripts publish. Include after pgsse.h and
 * registry.h.
 */
#ifndef PGSSE_LINT_H
#define PGSSE_LINT_H

/*
 * What the app-folder mode adds to the page checks: attr sees every
 * attribute of every tag (its value with "&amp;" undone), js the text
 * of every script, inline ones with their lines in place.
 */
struct lint_hooks {
	void	(*attr)(const char *file, int line, const char *name,
		    const char *val);
	void	(*js)(const char *file, const char *text);
};

/* pgsse-lint.c */
extern const struct pgsse_registry	*lint_reg;
extern const struct lint_hooks		*lint_hooks;
extern int				 lint_errors;
extern int				 lint_loose;

void	 lint_fail(const char *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
char	*lint_slurp(const char *);
int	 lint_line_of(const char *, const char *);
int	 lint_documented(const char *, const char *);
int	 lint_ends_with(const char *, const char *);
void	 lint_each_match(const char *, const char *, const char *,
	    void (*)(const char *, int, char [][128], size_t));
void	 lint_collect_funcs(const char *);
void	 lint_html(const char *, const char *);
void	 lint_js(const char *, const char *);
void	 lint_publishers(const char *, const char *, int);

/* lint-app.c */
int	 lint_app(const char *);
void	 lint_walk(const char *, int, void (*)(const char *));

/* lint-job.c */
void	 lint_job_kinds(const char *);
void	 lint_job_publish(const char *, const char *, int);

#endif /* !PGSSE_LINT_H */
