# The shell of JupyterLab's terminal under `make lab` / `make lab-instructor`: your usual
# interactive bash, then the course environment first on PATH (COURSE_BIN, set by the Makefile),
# so `python -m grader check NN_topic.ipynb` runs with the course's Python. (JupyterLab's
# default, a login shell, rereads /etc/profile, which resets PATH.)
[ -f ~/.bashrc ] && . ~/.bashrc
export PATH="$COURSE_BIN:$PATH"
