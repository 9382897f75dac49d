#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"
#include "xmalloc.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static struct auth_job *todo_head, *todo_tail, *done;
static bool stopping;
static int wake[2] = { -1, -1 };
static pthread_t *threads;
static unsigned n_threads;

static void *
worker_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (todo_head == NULL && !stopping)
			pthread_cond_wait(&work_ready, &lock);
		if (stopping) {
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		struct auth_job *job = todo_head;
		todo_head = job->next;
		if (todo_head == NULL)
			todo_tail = NULL;
		pthread_mutex_unlock(&lock);

		/* Unknown users verify against the dummy hash: same cost. */
		job->password_ok = password_verify(job->password, job->hash) && job->known;
		explicit_bzero(job->password, sizeof(job->password));

		pthread_mutex_lock(&lock);
		job->next = done;
		done = job;
		pthread_mutex_unlock(&lock);
		char c = 1;
		(void)write(wake[1], &c, 1);
	}
}

int
worker_start(unsigned n)
{
	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal("pipe");
	/* Make the dummy hash now, not on the first unknown user's time. */
	(void)password_dummy_hash();
	threads = xcalloc(n, sizeof(*threads));
	for (n_threads = 0; n_threads < n; n_threads++)
		if ((errno = pthread_create(&threads[n_threads], NULL, worker_main, NULL)) != 0)
			fatal("pthread_create");
	return wake[0];
}

void
worker_submit(struct auth_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&lock);
	if (todo_tail != NULL)
		todo_tail->next = job;
	else
		todo_head = job;
	todo_tail = job;
	pthread_cond_signal(&work_ready);
	pthread_mutex_unlock(&lock);
}

struct auth_job *
worker_take_done(void)
{
	char drain[64];
	struct auth_job *job;

	while (read(wake[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&lock);
	job = done;
	if (job != NULL)
		done = job->next;
	pthread_mutex_unlock(&lock);
	return job;
}

void
worker_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&work_ready);
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	while (todo_head != NULL) {
		struct auth_job *j = todo_head;
		todo_head = j->next;
		explicit_bzero(j, sizeof(*j));
		free(j);
	}
	while (done != NULL) {
		struct auth_job *j = done;
		done = j->next;
		free(j);
	}
	close(wake[0]);
	close(wake[1]);
}
