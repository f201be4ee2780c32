#ifndef CORUN_FORKSRV_H
#define CORUN_FORKSRV_H
#endif
